# shellcheck shell=bash
# Functions shared by backup.sh, restore.sh and migrate.sh. Sourced from the scripts'
# own directory, so it must be shipped beside them. Only bash and coreutils are
# assumed (the postgres:<version> image has no jq or python), which is why the .json
# metadata is written and read with a fixed one-field-per-line layout.

# The one lock of the database's jobs: a session-level advisory lock that migrate.sh holds for
# the whole migration and backup.sh for the whole dump, whether a deploy or the backup timer
# started it, so a scheduled backup never overlaps a deploy's backup or migration.
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly DATABASE_LOCK_SQL="hashtext('dropstack.migrate')"

# start_lock_session APPLICATION_NAME: a psql session of the script's own, in the background,
# that will hold the database lock. Sets lock_pid, lock_in (psql's stdin) and lock_out (its
# output). Fifos rather than a coproc: bash closes a coproc's descriptors and unsets their names
# as soon as psql exits, which loses psql's last words (a lock timeout's reason) and trips
# `set -u`. Whatever inherits lock_in (the migration, pg_dump) keeps the session, and the
# lock, alive until it has gone too, even if the script itself is killed.
start_lock_session() {
  local fifos
  fifos=$(mktemp -d) || die "cannot create a temporary directory for the lock session"
  mkfifo -- "$fifos/to-psql" "$fifos/from-psql" || die "cannot create the lock session's fifos"
  psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DATABASE_URL" <"$fifos/to-psql" >"$fifos/from-psql" 2>&1 &
  lock_pid=$!
  exec {lock_in}>"$fifos/to-psql" {lock_out}<"$fifos/from-psql"
  rm -rf -- "$fifos"
}

# wait_for_lock APPLICATION_NAME TIMEOUT_S: asks the lock session for the lock and waits. Returns 0
# with lock_acquired=true once it holds it, else 1 with lock_output set to what psql said.
# The session then idles while the job runs: a server-side idle_session_timeout (PostgreSQL >= 14,
# hence the lookup) or statement_timeout would end it, and the lock with it, halfway.
wait_for_lock() {
  local marker=dropstack-lock-acquired line
  # psql may already have exited (refused the password, say): the write then meets a pipe
  # without a reader, whose SIGPIPE would kill the script before it reads psql's last words.
  # Written from a subshell, only the subshell dies, and the loop below reads the reason.
  (
    printf '%s\n' \
      "SET application_name = '$1';" \
      "DO \$\$ BEGIN PERFORM set_config(name, '0', false) FROM pg_settings WHERE name = 'idle_session_timeout'; END \$\$;" \
      "SET statement_timeout = 0;" \
      "SET lock_timeout = '${2}s';" \
      "SELECT '$marker' FROM pg_advisory_lock($DATABASE_LOCK_SQL);" 1>&"$lock_in"
  ) 2>/dev/null
  lock_output=''
  while IFS= read -r line <&"$lock_out"; do
    if [[ $line == "$marker" ]]; then
      lock_acquired=true
      return 0
    fi
    lock_output+="${lock_output:+; }$line"
  done
  return 1
}

# Timestamped progress on stderr: stdout is reserved for results (backup.sh's path).
log() {
  local TZ=UTC
  printf '%(%Y-%m-%dT%H:%M:%SZ)T %s: %s\n' -1 "${HOOK_NAME:-${0##*/}}" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

require_env() {
  local name
  for name in "$@"; do
    [[ -n ${!name:-} ]] || die "$name must be set"
  done
}

require_commands() {
  local command
  for command in "$@"; do
    command -v "$command" >/dev/null 2>&1 || die "$command is not installed (needs the PostgreSQL client tools and coreutils)"
  done
}

# require_integer NAME VALUE MINIMUM
require_integer() {
  if [[ ! $2 =~ ^[0-9]{1,15}$ ]] || ((10#$2 < $3)); then
    die "$1 must be an integer >= $3, got '$2'"
  fi
}

# The sha256 of stdin as 64 hex digits. OpenSSL's implementation uses the CPU's SHA
# instructions where coreutils' sha256sum does not (about 6x faster on the build
# machine); the digest is the same, and sha256sum remains the fallback.
sha256_hex() {
  local digest
  if command -v openssl >/dev/null 2>&1; then
    digest=$(openssl dgst -sha256 -r) || return 1
  else
    digest=$(sha256sum) || return 1
  fi
  printf '%s\n' "${digest%% *}"
}

# Prints its argument as a JSON string literal. Quotes, backslashes and control
# characters are escaped byte by byte; other bytes (UTF-8 included) pass through.
json_string() {
  local LC_ALL=C
  local input=$1 output='' char code i
  if [[ $input != *[\"\\[:cntrl:]]* ]]; then
    printf '"%s"' "$input"
    return
  fi
  for ((i = 0; i < ${#input}; i++)); do
    char=${input:i:1}
    case $char in
      '"') output+='\"' ;;
      "\\") output+="\\\\" ;;
      *)
        printf -v code '%d' "'$char"
        if ((code >= 0 && code < 32)) || ((code == 127)); then
          printf -v char '\\u%04x' "$code"
        fi
        output+=$char
        ;;
    esac
  done
  printf '"%s"' "$output"
}

# Prints the raw JSON value of KEY from a backup's .json (as backup.sh writes it: one
# `  "key": value,` per line). Fails unless exactly one line holds the key. An escaped
# label cannot forge a line: it has no raw quotes or newlines.
backup_json_value() {
  local file=$1 key=$2 values
  values=$(sed -n "s/^  \"$key\": \(.*[^,]\),\{0,1\}\$/\1/p" -- "$file") || return 1
  [[ -n $values && $values != *$'\n'* ]] || return 1
  printf '%s\n' "$values"
}

# The UTC creation time of a backup, in seconds since the epoch.
backup_created_epoch() {
  local created
  created=$(backup_json_value "$1.json" created_at) || return 1
  [[ $created =~ ^\"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)\"$ ]] || return 1
  date -u -d "${BASH_REMATCH[1]}" +%s
}

# Succeeds when DUMP has a DUMP.json whose byte count and sha256 match the file;
# otherwise logs why and fails. Reads the dump once.
verify_backup() {
  local dump=$1 json=$1.json value expected_sha expected_bytes actual_bytes actual_sha
  if [[ ! -f $dump ]]; then
    log "$dump: no such file"
    return 1
  fi
  if [[ ! -f $json ]]; then
    log "$dump: no metadata file ${json##*/}, so it cannot be verified"
    return 1
  fi
  if ! value=$(backup_json_value "$json" sha256) || [[ ! $value =~ ^\"([0-9a-f]{64})\"$ ]]; then
    log "$json: no valid \"sha256\" field"
    return 1
  fi
  expected_sha=${BASH_REMATCH[1]}
  if ! expected_bytes=$(backup_json_value "$json" bytes) || [[ ! $expected_bytes =~ ^[0-9]+$ ]]; then
    log "$json: no valid \"bytes\" field"
    return 1
  fi
  actual_bytes=$(stat -c %s -- "$dump") || return 1
  if [[ $actual_bytes != "$expected_bytes" ]]; then
    log "$dump: $actual_bytes bytes but its metadata says $expected_bytes: truncated or altered"
    return 1
  fi
  actual_sha=$(sha256_hex <"$dump") || return 1
  if [[ $actual_sha != "$expected_sha" ]]; then
    log "$dump: sha256 $actual_sha does not match its metadata ($expected_sha): altered or corrupt"
    return 1
  fi
}
