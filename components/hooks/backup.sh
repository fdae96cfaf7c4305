#!/usr/bin/env bash
# Verified, atomic backup of one PostgreSQL database (docs/design.md, "Hook scripts"), run before every
# migration.
#
#   DATABASE_URL  database to dump (required)
#   BACKUP_DIR    where backups live; created if missing (required)
#   BACKUP_LABEL  free text recorded in the metadata; a sanitised form joins the file name
#   BACKUP_KEEP   keep only the newest N backups of this database (default: keep all)
#   BACKUP_LOCK_TIMEOUT_S  how long to wait for a running migration or backup (default 900;
#                 0 waits for ever)
#
# The dump runs under the database lock migrate.sh takes (lib.sh's DATABASE_LOCK_SQL), held by
# a psql session of its own from before pg_dump starts until this script exits, so a backup
# (a deploy's or the timer's) never runs during a migration or another backup.
#
# Writes BACKUP_DIR/<db>-<UTC stamp>[-<label>].dump (pg_dump custom format) and beside it
# <file>.json with sha256, bytes, database, server and pg_dump versions, label and
# created_at (UTC, when the dump started).
# The dump is hashed while it streams to disk, so it is never read twice; verification
# is a non-empty file plus `pg_restore --list`, which only reads the archive's table of
# contents. Both files appear by rename only after that, so readers never see a partial
# backup, and any failure removes what this run wrote. The last stdout line is the path.
set -euo pipefail
HOOK_NAME=backup.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# Interrupted runs of pg_dump can only be killed (no EXIT trap runs), leaving a hidden
# partial file; later runs remove those once they are clearly abandoned.
readonly ABANDONED_PARTIAL_MINUTES=60
readonly PARTIAL_PREFIX=.dropstack-backup-

require_env DATABASE_URL BACKUP_DIR
keep=${BACKUP_KEEP:-}
[[ -z $keep ]] || require_integer BACKUP_KEEP "$keep" 1
label=${BACKUP_LABEL:-}
lock_timeout=${BACKUP_LOCK_TIMEOUT_S:-900}
require_integer BACKUP_LOCK_TIMEOUT_S "$lock_timeout" 0
require_commands pg_dump pg_restore psql sha256sum mkfifo

partial_dump='' partial_json='' final_dump='' final_json='' published=false renamed_dump=false
lock_pid='' lock_acquired=false
remove_unpublished() {
  local path
  # A psql still waiting for the lock would take it after we are gone; SIGINT cancels the wait.
  [[ -z $lock_pid || $lock_acquired == true ]] || kill -INT "$lock_pid" 2>/dev/null || true
  for path in "$partial_dump" "$partial_json"; do
    [[ -z $path ]] || rm -f -- "$path"
  done
  if [[ $published != true && $renamed_dump == true ]]; then
    rm -f -- "$final_dump" "$final_json"
  fi
}
trap remove_unpublished EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p -- "$BACKUP_DIR" 2>/dev/null || die "cannot create BACKUP_DIR $BACKUP_DIR"
[[ -d $BACKUP_DIR && -w $BACKUP_DIR ]] || die "BACKUP_DIR $BACKUP_DIR is not a writable directory"

log "taking the database lock (waiting up to ${lock_timeout}s for a running migration or backup)"
start_lock_session
wait_started=$SECONDS
wait_for_lock 'dropstack backup.sh lock' "$lock_timeout" ||
  die "could not take the database lock: ${lock_output:-the lock session ended} (a lock timeout means a migration or backup ran for longer than BACKUP_LOCK_TIMEOUT_S=${lock_timeout}s); nothing was dumped"
log "database lock taken after $((SECONDS - wait_started))s"

# One clock reading for both: the metadata time and the name that orders backups.
read -r created_at stamp < <(date -u '+%Y-%m-%dT%H:%M:%SZ %Y%m%dT%H%M%S.%NZ')
partial_dump="$BACKUP_DIR/$PARTIAL_PREFIX$stamp.$$.partial"

log "dumping the database in DATABASE_URL to $BACKUP_DIR"
started=$SECONDS
sha256=$(pg_dump --format=custom --dbname="$DATABASE_URL" | tee -- "$partial_dump" | sha256_hex) ||
  die "pg_dump failed (its reason is above); nothing was kept"
bytes=$(stat -c %s -- "$partial_dump")
((bytes > 0)) || die "pg_dump wrote an empty file"
toc=$(pg_restore --list -- "$partial_dump") ||
  die "the dump is not a readable archive: pg_restore --list failed"

# The archive's own header names the database and both versions; the metadata takes
# them from there rather than from a second connection.
archive_header() {
  local line prefix=";     $1: "
  while IFS= read -r line; do
    if [[ $line == "$prefix"* ]]; then
      printf '%s' "${line#"$prefix"}"
      return 0
    fi
  done <<<"$toc"
  return 1
}
[[ $(archive_header Format) == CUSTOM ]] || die "pg_restore --list does not describe a custom-format archive"
database=$(archive_header dbname) || die "the archive header names no database"
server_version=$(archive_header "Dumped from database version") || die "the archive header has no server version"
pg_dump_version=$(archive_header "Dumped by pg_dump version") || die "the archive header has no pg_dump version"
log "dumped and verified database $database (PostgreSQL $server_version): $bytes bytes in $((SECONDS - started))s, sha256 $sha256"

# Byte-wise (C locale), so a name never depends on the caller's locale.
file_safe() {
  local LC_ALL=C
  local safe=${1//[^A-Za-z0-9._-]/_}
  printf '%s' "${safe:0:64}"
}
safe_database=$(file_safe "$database")
safe_label=$(file_safe "$label")
name="$safe_database-$stamp${safe_label:+-$safe_label}.dump"
final_dump="$BACKUP_DIR/$name"
final_json="$final_dump.json"
partial_json="$partial_dump.json"

if [[ -n $label ]]; then label_json=$(json_string "$label"); else label_json=null; fi
{
  printf '{\n'
  printf '  "format": "pg_dump-custom",\n'
  printf '  "file": %s,\n' "$(json_string "$name")"
  printf '  "sha256": "%s",\n' "$sha256"
  printf '  "bytes": %s,\n' "$bytes"
  printf '  "database": %s,\n' "$(json_string "$database")"
  printf '  "server_version": %s,\n' "$(json_string "$server_version")"
  printf '  "pg_dump_version": %s,\n' "$(json_string "$pg_dump_version")"
  printf '  "label": %s,\n' "$label_json"
  printf '  "created_at": "%s"\n' "$created_at"
  printf '}\n'
} >"$partial_json"

# Data first on disk, then the names: a crash never leaves a name pointing at a hole.
sync -- "$partial_dump" "$partial_json"
[[ ! -e $final_dump && ! -e $final_json ]] || die "$final_dump already exists"
mv -T -- "$partial_dump" "$final_dump"
renamed_dump=true
mv -T -- "$partial_json" "$final_json"
sync -- "$BACKUP_DIR"
published=true
log "backup complete: $final_dump"

# Newest first by name (the stamp sorts in time order); only this database's backups.
prune_backups() {
  local LC_ALL=C
  local keep=$1 path oldest_kept
  local -a dumps jsons complete=()
  shopt -s nullglob
  dumps=("$BACKUP_DIR/$safe_database"-????????T??????.?????????Z*.dump)
  jsons=("$BACKUP_DIR/$safe_database"-????????T??????.?????????Z*.dump.json)
  shopt -u nullglob
  for path in "${dumps[@]}"; do
    [[ ! -f $path.json ]] || complete+=("$path")
  done
  ((${#complete[@]} > keep)) || return 0
  oldest_kept=${complete[${#complete[@]} - keep]}
  # Older orphans (a dump whose run was killed before its .json appeared) go too.
  for path in "${dumps[@]}" "${jsons[@]}"; do
    if [[ ${path%.json} < $oldest_kept ]]; then
      rm -f -- "$path" && log "pruned ${path##*/}"
    fi
  done
}

if [[ -n $keep ]]; then
  prune_backups "$keep" || log "warning: pruning to the newest $keep backups failed; the new backup is complete"
fi
find "$BACKUP_DIR" -maxdepth 1 -type f -name "$PARTIAL_PREFIX*.partial*" -mmin +"$ABANDONED_PARTIAL_MINUTES" \
  -print -delete 2>/dev/null | while IFS= read -r path; do log "removed abandoned ${path##*/}"; done || true

printf '%s\n' "$final_dump"
