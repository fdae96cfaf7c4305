#!/usr/bin/env bash
# The host side of the migrate hook (docs/design.md, "Hook scripts"): runs migrate.sh in the
# PostgreSQL client image, where it checks for a fresh verified backup and takes the
# migration lock, and — once migrate.sh asks for it — the migration itself in the app image,
# on the same docker network. Exits with migrate.sh's status, which is the migration's, or
# non-zero when migrate.sh refused.
#
# The hand-off: migrate.sh's MIGRATE_COMMAND writes a line into the request FIFO of a per-run
# directory and waits for the exit status on the status FIFO. The client container needs no
# docker socket, and the lock is held until the status is back. On any early exit the
# migration stops before migrate.sh is let go, so the lock never ends before the migration.
#
# Parameters (components/hooks/commands.ts pins them above this body):
#   NETWORK                 the docker network the database is reached on
#   CLIENT_IMAGE            the PostgreSQL client image migrate.sh runs in
#   APP_IMAGE               the app image, pinned by digest
#   MIGRATION               dropstack:app.migrate, run with `sh -c` in APP_IMAGE
#   HOOKS_DIR, BACKUP_DIR, RUN_DIR   where the hook scripts, the backups and scratch dirs live
#   BACKUP_MAX_AGE_S, MIGRATE_LOCK_TIMEOUT_S   passed on to migrate.sh
# Stdin (secrets never appear in arguments or the environment of this shell): the database
# URL on the first line, then the migration's environment as NAME=value lines.
set -euo pipefail

# Every parameter is required; migrate.sh checks the two numbers.
: "${NETWORK:?}" "${CLIENT_IMAGE:?}" "${APP_IMAGE:?}" "${MIGRATION:?}" "${HOOKS_DIR:?}" "${BACKUP_DIR:?}" "${RUN_DIR:?}"
: "${BACKUP_MAX_AGE_S:?}" "${MIGRATE_LOCK_TIMEOUT_S:?}"

IFS= read -r database_url || true
[[ -n $database_url ]] || { echo "dropstack: the database URL did not arrive on stdin" >&2; exit 1; }
migration_env=()
while IFS= read -r line; do migration_env+=("$line"); done

# What migrate.sh runs in the client container instead of the migration.
# shellcheck disable=SC2016 # expanded by migrate.sh's shell, not this one
handoff_command='printf '\''run\n'\'' >"$DROPSTACK_HANDOFF/request" && IFS= read -r status <"$DROPSTACK_HANDOFF/status" && exit "$status"'

run_dir=$(mktemp -d "$RUN_DIR/migrate.XXXXXXXX")
mkfifo -m 0600 "$run_dir/request" "$run_dir/status"
# Read-write opens never block, so neither side waits for the other to open a FIFO.
exec 3<>"$run_dir/request" 4<>"$run_dir/status"
lock_holder="dropstack-migrate-lock-${run_dir##*.}" migration="dropstack-migration-${run_dir##*.}"
lock_holder_pid='' migration_pid=''
# shellcheck disable=SC2317 # runs from the EXIT trap
finish() {
  local status=$?
  # The cleanup runs to its end: a second signal must not cut short the wait for the migration.
  trap '' HUP INT TERM
  # On any early exit, the migration stops before the lock can be released.
  if [[ -n $migration_pid ]]; then docker stop --time 60 "$migration" >/dev/null 2>&1 || true; wait "$migration_pid" 2>/dev/null || true; fi
  if [[ -n $lock_holder_pid ]]; then printf '1\n' >&4 || true; wait "$lock_holder_pid" 2>/dev/null || true; fi
  rm -rf -- "$run_dir"
  exit "$status"
}
trap finish EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --sig-proxy=false: a signal to this script must not reach migrate.sh directly and release
# the lock while the migration still runs; finish() keeps that order. The client container
# runs as the deploy user, with no capabilities and no way to gain privileges.
docker run --rm --sig-proxy=false \
  --name "$lock_holder" \
  --network "$NETWORK" \
  --user "$(id -u):$(id -g)" \
  --cap-drop ALL \
  --security-opt no-new-privileges \
  -v "$HOOKS_DIR:$HOOKS_DIR:ro" \
  -v "$BACKUP_DIR:$BACKUP_DIR:ro" \
  -v "$run_dir:$run_dir" \
  --env-file <(printf 'DATABASE_URL=%s\n' "$database_url") \
  -e "BACKUP_DIR=$BACKUP_DIR" \
  -e "BACKUP_MAX_AGE_S=$BACKUP_MAX_AGE_S" \
  -e "MIGRATE_LOCK_TIMEOUT_S=$MIGRATE_LOCK_TIMEOUT_S" \
  -e "DROPSTACK_HANDOFF=$run_dir" \
  -e "MIGRATE_COMMAND=$handoff_command" \
  "$CLIENT_IMAGE" \
  bash "$HOOKS_DIR/migrate.sh" &
lock_holder_pid=$!
requested=false
while kill -0 "$lock_holder_pid" 2>/dev/null; do
  if IFS= read -r -t 1 _ <&3; then requested=true; break; fi
done
if [[ $requested != true ]]; then
  status=0; wait "$lock_holder_pid" || status=$?; lock_holder_pid=''
  echo "dropstack: migrate.sh ended before running the migration (exit $status); nothing was migrated" >&2
  exit $((status == 0 ? 1 : status))
fi
echo "dropstack: migration lock held; migrating with $APP_IMAGE" >&2
docker run --rm --sig-proxy=false \
  --name "$migration" \
  --network "$NETWORK" \
  --security-opt no-new-privileges \
  --env-file <(printf '%s\n' "${migration_env[@]}") \
  "$APP_IMAGE" \
  sh -c "$MIGRATION" &
migration_pid=$!
migration_status=0
wait "$migration_pid" || migration_status=$?
migration_pid=''
printf '%s\n' "$migration_status" >&4
status=0
wait "$lock_holder_pid" || status=$?
lock_holder_pid=''
exit "$status"
