#!/usr/bin/env bash
# Restore drill: proves a backup written by backup.sh restores and can be read, without touching
# the production database. Runs in the PostgreSQL client image (which ships the server too).
#
#   drill.sh <file>     the dump to restore (its <file>.json beside it)
#
#   DRILL_WORK_DIR  where the throwaway server's data directory goes (required; the drill
#                   needs about the size of the restored database there)
#   DRILL_ROLES     roles the dump's GRANTs name (space-separated), created before the
#                   restore so restore.sh's all-or-nothing restore does not fail on them
#
# Starts a throwaway PostgreSQL server on a Unix socket only (no TCP), restores the file into a
# scratch database with restore.sh (which checks the sha256 first), counts every row of every
# table with one query, drops the scratch database and stops the server. Prints one line of
# JSON as its last stdout line: ok, the dump, its size and creation time, tables and rows
# checked, the seconds taken and, when it failed, why. Exits 0 only when the drill passed.
set -euo pipefail
HOOK_NAME=drill.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || die "usage: drill.sh <backup file> (with DRILL_WORK_DIR set)"
dump=$1
require_env DRILL_WORK_DIR
require_commands initdb pg_ctl psql pg_restore sha256sum

# Every row of every table outside the system schemas, read for real (count(*) per table).
readonly CHECK_SQL="SELECT count(*) || ' ' || coalesce(sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::bigint), 0) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"

started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
started=$SECONDS
bytes=null created_at=null tables=null rows=null
if [[ -f $dump ]]; then bytes=$(stat -c %s -- "$dump"); fi
if [[ -f $dump.json ]] && value=$(backup_json_value "$dump.json" created_at); then created_at=$value; fi

result() {
  local ok=$1 error=$2
  printf '{"ok": %s, "file": %s, "bytes": %s, "backup_created_at": %s, "started_at": "%s", "seconds": %s, "tables": %s, "rows": %s, "error": %s}\n' \
    "$ok" "$(json_string "${dump##*/}")" "$bytes" "$created_at" "$started_at" "$((SECONDS - started))" "$tables" "$rows" "$error"
}

server='' run_dir=''
# Stops the scratch server (the scratch database goes with its data directory) and removes it.
stop_server() {
  if [[ -n $server ]]; then pg_ctl -D "$run_dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  [[ -z $run_dir ]] || rm -rf -- "$run_dir"
  server='' run_dir=''
}
fail() {
  log "drill failed: $*"
  stop_server
  result false "$(json_string "$*")"
  exit 1
}
trap stop_server EXIT

mkdir -p -- "$DRILL_WORK_DIR" 2>/dev/null || fail "cannot create DRILL_WORK_DIR $DRILL_WORK_DIR"
run_dir=$(mktemp -d "$DRILL_WORK_DIR/drill.XXXXXX") || fail "cannot make a directory in $DRILL_WORK_DIR"
data=$run_dir/data
initdb -D "$data" -U drill --auth=trust -E UTF8 >"$run_dir/initdb.log" 2>&1 || fail "initdb failed: $(tail -n 3 "$run_dir/initdb.log")"
# Durability is pointless for a database that is dropped in a minute.
pg_ctl -D "$data" -l "$run_dir/server.log" -w -t 120 \
  -o "-c listen_addresses='' -k $run_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null ||
  fail "the scratch server did not start: $(tail -n 3 "$run_dir/server.log")"
server=started
admin="postgresql:///postgres?host=$run_dir&user=drill"
scratch="postgresql:///dropstack_drill?host=$run_dir&user=drill"

roles_sql=''
for role in ${DRILL_ROLES:-}; do
  [[ $role =~ ^[a-z_][a-z0-9_]*$ ]] || fail "DRILL_ROLES: '$role' is not a plain role name"
  roles_sql+="CREATE ROLE $role NOLOGIN;"
done
psql -X -q -v ON_ERROR_STOP=1 -d "$admin" -c "${roles_sql}" -c "CREATE DATABASE dropstack_drill" >/dev/null ||
  fail "could not create the scratch database"

log "restoring ${dump##*/} into a scratch database"
DATABASE_URL=$scratch bash "$(dirname -- "${BASH_SOURCE[0]}")/restore.sh" "$dump" || fail "restore.sh failed (its reason is above)"
counted=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$scratch" -c "$CHECK_SQL") || fail "the check query failed"
[[ $counted =~ ^([0-9]+)\ ([0-9]+)$ ]] || fail "the check query returned '$counted'"
tables=${BASH_REMATCH[1]} rows=${BASH_REMATCH[2]}
log "read $rows rows in $tables tables"
psql -X -q -v ON_ERROR_STOP=1 -d "$admin" -c "DROP DATABASE dropstack_drill" >/dev/null || fail "could not drop the scratch database"
stop_server
log "drill passed in $((SECONDS - started))s"
result true null
