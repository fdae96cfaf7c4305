#!/usr/bin/env bash
# Schema assertions (dropstack:app.verify.sql), run after the migration and before the rollout
# in the PostgreSQL client image on the droplet, as the readonly role. Each assertion is a
# query that must return exactly one value, true; anything else (false, NULL, no row, more
# than one value, an error) fails it. Every assertion runs; the failures are listed together,
# each by its name, and the script exits 1 if there was any, which stops the rollout.
#
# Environment:
#   DATABASE_URL            the readonly role's direct connection
#   ASSERTION_COUNT         and ASSERTION_1 … ASSERTION_<count>: each the name, a tab, the query
#                           (the query may hold tabs; neither holds a line break)
#   STATEMENT_TIMEOUT_MS    per query; the session is read-only as well, whatever the role may do
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
HOOK_NAME=verify

require_env DATABASE_URL ASSERTION_COUNT STATEMENT_TIMEOUT_MS
require_integer ASSERTION_COUNT "$ASSERTION_COUNT" 1
require_integer STATEMENT_TIMEOUT_MS "$STATEMENT_TIMEOUT_MS" 1
require_commands psql

export PGOPTIONS="-c default_transaction_read_only=on -c statement_timeout=$STATEMENT_TIMEOUT_MS"
export PGCONNECT_TIMEOUT=10

failures=()
for ((i = 1; i <= ASSERTION_COUNT; i++)); do
  variable=ASSERTION_$i
  [[ ${!variable:-} == ?*$'\t'?* ]] || die "$variable must hold a name, a tab and a query"
  IFS=$'\t' read -r name query <<<"${!variable}"
  if ! output=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "$query" 2>&1); then
    failures+=("\"$name\": the query failed: ${output//$'\n'/ }")
  elif [[ $output == t ]]; then
    echo "dropstack: assertion \"$name\" holds"
  elif [[ -z $output ]]; then
    failures+=("\"$name\": returned no row (or NULL), not true")
  else
    failures+=("\"$name\": returned ${output//$'\n'/ | }, not true")
  fi
done

count=$ASSERTION_COUNT
if ((${#failures[@]} > 0)); then
  echo "dropstack: ${#failures[@]} of $count schema assertions failed, so the rollout does not start:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "dropstack: all $count schema assertions hold"
