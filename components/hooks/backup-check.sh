#!/usr/bin/env bash
# Backup freshness check, run by a timer on the droplet: is there a recent verified backup, did
# the last off-site copy and the last restore drill succeed? Writes the verdict where the
# monitoring reads it, and exits 1 when something is wrong.
#
#   BACKUP_DIR        where backup.sh writes (required)
#   STATUS_DIR        where the backup and drill results are (offsite.json, drill.json) and
#                     where this writes backups.json (required)
#   BACKUP_MAX_AGE_S  the newest verified backup (and, with OFFSITE=true, the newest off-site
#                     copy) must be at most this old: twice the backup interval (required)
#   DRILL_MAX_AGE_S   the last restore drill must have passed at most this long ago; 0 when
#                     drills are off (default 0)
#   OFFSITE           true when backups are copied off-site (default false)
#   PROBE_FILE        present (containing "ok") exactly while all is well; the uptime check
#                     fetches it through nginx and alerts when it is gone (optional)
#
# backups.json: {"ok", "checked_at", "newest_backup", "newest_backup_age_s", "problems": [...]}.
set -euo pipefail
HOOK_NAME=backup-check.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

require_env BACKUP_DIR STATUS_DIR BACKUP_MAX_AGE_S
require_integer BACKUP_MAX_AGE_S "$BACKUP_MAX_AGE_S" 1
drill_max_age=${DRILL_MAX_AGE_S:-0}
require_integer DRILL_MAX_AGE_S "$drill_max_age" 0
offsite=${OFFSITE:-false}
[[ $offsite == true || $offsite == false ]] || die "OFFSITE must be true or false, got '$offsite'"

now=$(date -u +%s)
problems=()

# The newest backup that still matches its .json; newest first by created_at, so at most a few
# files are hashed.
newest='' newest_age=''
shopt -s nullglob
candidates=()
for json in "$BACKUP_DIR"/*.dump.json; do
  dump=${json%.json}
  created=$(backup_created_epoch "$dump") || continue
  candidates+=("$created $dump")
done
shopt -u nullglob
if ((${#candidates[@]} > 0)); then
  while IFS=' ' read -r created dump; do
    if verify_backup "$dump"; then
      newest=$dump newest_age=$((now - created))
      break
    fi
  done < <(printf '%s\n' "${candidates[@]}" | sort -rn)
fi
if [[ -z $newest ]]; then
  problems+=("no verified backup in $BACKUP_DIR")
elif ((newest_age > BACKUP_MAX_AGE_S)); then
  problems+=("the newest verified backup, ${newest##*/}, is ${newest_age}s old (limit ${BACKUP_MAX_AGE_S}s)")
fi

# A result file's "finished_at" / "started_at" (UTC) as seconds since the epoch.
result_epoch() {
  local value
  value=$(sed -n "s/.*\"$2\": \"\([0-9T:Z-]*\)\".*/\1/p" -- "$1" | head -n 1) || return 1
  [[ $value =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || return 1
  date -u -d "$value" +%s
}

if [[ $offsite == true ]]; then
  if ! copied=$(result_epoch "$STATUS_DIR/offsite.json" finished_at); then
    problems+=("no off-site copy recorded in $STATUS_DIR/offsite.json")
  elif ((now - copied > BACKUP_MAX_AGE_S)); then
    problems+=("the last off-site copy finished $((now - copied))s ago (limit ${BACKUP_MAX_AGE_S}s)")
  fi
fi

if ((drill_max_age > 0)); then
  drill=$STATUS_DIR/drill.json
  if [[ ! -f $drill ]] || ! drilled=$(result_epoch "$drill" started_at); then
    problems+=("no restore drill result in $drill")
  elif ! grep -q '^{"ok": true,' -- "$drill"; then
    problems+=("the last restore drill failed: $(sed -n 's/.*"error": \(.*\)}$/\1/p' -- "$drill")")
  elif ((now - drilled > drill_max_age)); then
    problems+=("the last restore drill passed $((now - drilled))s ago (limit ${drill_max_age}s)")
  fi
fi

if ((${#problems[@]} == 0)); then ok=true; else ok=false; fi
listed=''
for problem in "${problems[@]}"; do
  log "problem: $problem"
  listed+="${listed:+, }$(json_string "$problem")"
done
if [[ -n $newest ]]; then newest_json=$(json_string "${newest##*/}") age_json=$newest_age; else newest_json=null age_json=null; fi
mkdir -p -- "$STATUS_DIR"
tmp=$(mktemp "$STATUS_DIR/.backups.json.XXXXXX")
printf '{"ok": %s, "checked_at": "%s", "newest_backup": %s, "newest_backup_age_s": %s, "problems": [%s]}\n' \
  "$ok" "$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)" "$newest_json" "$age_json" "$listed" >"$tmp"
chmod 0644 -- "$tmp"
mv -f -- "$tmp" "$STATUS_DIR/backups.json"

if [[ -n ${PROBE_FILE:-} ]]; then
  if [[ $ok == true ]]; then
    printf 'ok\n' >"$PROBE_FILE.tmp" && chmod 0644 -- "$PROBE_FILE.tmp" && mv -f -- "$PROBE_FILE.tmp" "$PROBE_FILE"
  else
    rm -f -- "$PROBE_FILE"
  fi
fi
if [[ $ok == true ]]; then
  log "backups are fresh: ${newest##*/} is ${newest_age}s old"
else
  exit 1
fi
