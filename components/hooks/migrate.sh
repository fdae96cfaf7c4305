#!/usr/bin/env bash
# Runs the app's migration against DATABASE_URL (docs/design.md, "Hook scripts"), only behind a fresh,
# verified backup and never concurrently with another migration of the same database.
#
#   DATABASE_URL            the database; must be a direct connection or a session-mode
#                           pool (the lock below is session-level)
#   MIGRATE_COMMAND         run with `sh -c`, DATABASE_URL in its environment
#   BACKUP_DIR              where backup.sh writes
#   BACKUP_MAX_AGE_S        refuse unless a backup of this database, matching its .json,
#                           was made at most this many seconds ago
#   MIGRATE_LOCK_TIMEOUT_S  how long to wait for another migration to finish
#                           (default 900; 0 waits for ever)
#
# Serialisation lives in the database: a psql session takes a session-level advisory
# lock and holds it until the migration is over. The migration inherits that session's
# stdin pipe, so even if this script is killed outright the lock is released only once
# the migration process has gone too; if the connection drops, the server releases it.
# Exits with the migration's status (1 when it refuses to start).
set -euo pipefail
HOOK_NAME=migrate.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

readonly LOCK_HELD=dropstack-migrate-lock-held

require_env DATABASE_URL MIGRATE_COMMAND BACKUP_DIR BACKUP_MAX_AGE_S
require_integer BACKUP_MAX_AGE_S "$BACKUP_MAX_AGE_S" 1
lock_timeout=${MIGRATE_LOCK_TIMEOUT_S:-900}
require_integer MIGRATE_LOCK_TIMEOUT_S "$lock_timeout" 0
require_commands psql sha256sum mkfifo

database=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c 'SELECT current_database()') ||
  die "cannot query the database in DATABASE_URL (psql's reason is above)"

# Newest first; the first candidate that verifies wins, so at most a few files are hashed.
find_fresh_backup() {
  local now json dump created age expected_database recorded_database
  local -a candidates=()
  now=$(date -u +%s)
  expected_database=$(json_string "$database")
  shopt -s nullglob
  for json in "$BACKUP_DIR"/*.dump.json; do
    dump=${json%.json}
    recorded_database=$(backup_json_value "$json" database) || continue
    [[ $recorded_database == "$expected_database" ]] || continue
    if ! created=$(backup_created_epoch "$dump"); then
      log "ignoring ${dump##*/}: its metadata has no valid created_at"
      continue
    fi
    age=$((now - created))
    if ((age > BACKUP_MAX_AGE_S)); then
      log "ignoring ${dump##*/}: ${age}s old, BACKUP_MAX_AGE_S is ${BACKUP_MAX_AGE_S}s"
      continue
    fi
    candidates+=("$created $dump")
  done
  shopt -u nullglob
  local line
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    dump=${line#* }
    if verify_backup "$dump"; then
      printf '%s\n' "$dump"
      return 0
    fi
  done < <(printf '%s\n' "${candidates[@]}" | sort -rn)
  return 1
}

[[ -d $BACKUP_DIR ]] || die "refusing to migrate: BACKUP_DIR $BACKUP_DIR does not exist, so there is no backup"
backup=$(find_fresh_backup) ||
  die "refusing to migrate $database: no verified backup of it in $BACKUP_DIR from the last ${BACKUP_MAX_AGE_S}s; run backup.sh first"
log "fresh verified backup: $backup"

start_lock_session

lock_acquired=false migration_pid='' signal_arrived=false
# shellcheck disable=SC2317 # trap handler
cancel_lock_wait() {
  # A psql still waiting for the lock would take it after we are gone; SIGINT makes
  # psql cancel the wait on the server.
  [[ $lock_acquired == true ]] || kill -INT "$lock_pid" 2>/dev/null || true
}
trap cancel_lock_wait EXIT
# shellcheck disable=SC2317 # trap handler
on_signal() {
  local name=$1 number=$2
  if [[ -z $migration_pid ]]; then
    log "received SIG$name before the migration started; exiting"
    exit $((128 + number))
  fi
  # Keep the lock until the migration has actually stopped.
  log "received SIG$name; passing it to the migration and waiting for it to stop"
  kill -s "$name" -- "-$migration_pid" 2>/dev/null || true
  signal_arrived=true
}
trap 'on_signal HUP 1' HUP
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM

log "taking the migration lock on $database (waiting up to ${lock_timeout}s for a running migration)"
wait_started=$SECONDS
wait_for_lock 'dropstack migrate.sh lock' "$lock_timeout" ||
  die "could not take the migration lock: ${lock_output:-the lock session ended} (a lock timeout means another migration ran for longer than MIGRATE_LOCK_TIMEOUT_S=${lock_timeout}s)"
log "migration lock taken after $((SECONDS - wait_started))s"

export DATABASE_URL
log "running the migration"
started=$SECONDS
# Job control gives the migration its own process group, so a signal reaches all of it.
set -m
sh -c "$MIGRATE_COMMAND" &
migration_pid=$!
set +m
while :; do
  signal_arrived=false
  status=0
  wait "$migration_pid" || status=$?
  # A trapped signal interrupts `wait`; wait again for the real exit status.
  [[ $signal_arrived == true ]] || break
done

if ((status == 0)); then
  log "migration succeeded in $((SECONDS - started))s"
else
  log "migration failed with status $status after $((SECONDS - started))s"
fi

# Had the lock session died (connection killed), another migration could have started.
trap '' PIPE
lock_held_throughout=false
if printf '%s\n' "SELECT '$LOCK_HELD' FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted;" 1>&"$lock_in" 2>/dev/null &&
  IFS= read -r -t 30 line <&"$lock_out" && [[ $line == "$LOCK_HELD" ]]; then
  lock_held_throughout=true
fi
exec {lock_in}>&-
wait "$lock_pid" 2>/dev/null || true
if [[ $lock_held_throughout == true ]]; then
  log "released the migration lock"
else
  log "warning: the migration lock session ended during the migration; another migration may have overlapped it"
fi
exit "$status"
