#!/usr/bin/env bash
# dropstack post-deploy watch (dropstack:app.watch), run on the droplet after the smoke test:
# for WINDOW_S seconds, the requests nginx serves are read from its access log (the
# `dropstack` log_format: combined plus "$host" and $request_time,
# components/proxy/nginx-conf.ts), and their 5xx share and 95th-percentile latency are held
# against the limits. A breach fails the deploy and prints the code rollback to the previous
# image (docs/rollback.md), whose digest the droplet still holds; the image prune does not
# run after a failed watch.
#
# Parameters (components/hooks/commands.ts renderWatchCommand pins them above this text):
#   NGINX_CONTAINER        nginx's container; its stdout is the access log
#   WINDOW_S               how long to watch
#   MAX_5XX_BASIS_POINTS   the largest 5xx share that passes, in hundredths of a percent (1% = 100)
#   MAX_P95_MS             the largest 95th-percentile request time that passes
#   MIN_REQUESTS           fewer requests than this are too few to judge: the watch passes
#   CURRENT_IMAGE          the image ID just deployed
#   HISTORY                the deployed image IDs, newest last (the prune's history file)
#   STACK                  for the printed commands
#   ROLLBACK_MARKER        starts the one line that names the rollback image, for `npm run rollback`
#   AUTO_ROLLBACK          true when dropstack:app.watch.rollback has the deploy job roll back
#   IGNORED_HOSTS          hosts whose requests are not the deploy's, space-separated, maybe
#                          none: Grafana's (hosts.monitoring), whose WebSockets log their whole
#                          lifetime as request time
# `watch.sh analyze [HOST...]` only reads an access log on stdin and prints "<requests> <5xx>
# <p95 ms>", leaving out requests to the given hosts.
set -euo pipefail

# Lines that are not requests in the dropstack format (nginx's own messages) are skipped.
# nginx writes a " inside a logged value as \x22, so only the format's own quotes split a
# line on ": the status is the first word after the request's closing quote, and the
# request time the line's last word, whatever the user agent or host hold.
# $request_time has millisecond resolution; p95 is the nearest-rank percentile. The host is
# the quoted field before the request time; a line from before the host joined the format
# (fewer fields) has none, and counts.
analyze() {
  awk -F'"' -v hosts="$*" '
    BEGIN { count = split(hosts, list, " "); for (i = 1; i <= count; i++) ignored[list[i]] = 1 }
    {
      if (NF >= 9 && ($(NF - 1) in ignored)) next
      split($3, after_request, " ")
      fields = split($0, all, " ")
      if (after_request[1] !~ /^[1-5][0-9][0-9]$/ || all[fields] !~ /^[0-9]+(\.[0-9]+)?$/) next
      print after_request[1], all[fields]
    }' |
    sort -k2,2n |
    awk '{ time[NR] = $2; if ($1 ~ /^5/) errors++ }
      END {
        if (NR == 0) { print 0, 0, 0; exit }
        rank = int((95 * NR + 99) / 100)
        printf "%d %d %d\n", NR, errors, int(time[rank] * 1000 + 0.5)
      }'
}

if [[ ${1:-} == analyze ]]; then
  shift
  analyze "$@"
  exit 0
fi

: "${NGINX_CONTAINER:?}" "${WINDOW_S:?}" "${MAX_5XX_BASIS_POINTS:?}" "${MAX_P95_MS:?}" "${MIN_REQUESTS:?}"
: "${CURRENT_IMAGE:?}" "${HISTORY:?}" "${STACK:?}" "${ROLLBACK_MARKER:?}" "${AUTO_ROLLBACK:?}" "${IGNORED_HOSTS?}"

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "dropstack: watching the requests through nginx for ${WINDOW_S}s from $start"
sleep "$WINDOW_S"
if ! docker logs --since "$start" "$NGINX_CONTAINER" >"$work/access.log" 2>"$work/stderr"; then
  echo "dropstack: cannot read nginx's access log from $NGINX_CONTAINER: $(tail -n 1 "$work/stderr")" >&2
  exit 1
fi
# shellcheck disable=SC2086 # IGNORED_HOSTS is a list of hostnames, split on purpose
read -r requests errors p95 < <(analyze $IGNORED_HOSTS <"$work/access.log")

limit_percent=$(awk -v bp="$MAX_5XX_BASIS_POINTS" 'BEGIN { printf "%.2f", bp / 100 }')
if ((requests == 0)); then
  echo "dropstack: no requests through nginx in the ${WINDOW_S}s window: nothing to judge"
  exit 0
fi
percent=$(awk -v e="$errors" -v n="$requests" 'BEGIN { printf "%.2f", 100 * e / n }')
echo "dropstack: $requests requests in ${WINDOW_S}s: $errors 5xx ($percent%, limit $limit_percent%), p95 ${p95} ms (limit $MAX_P95_MS ms)"
if ((requests < MIN_REQUESTS)); then
  echo "dropstack: fewer than $MIN_REQUESTS requests: too few to judge"
  exit 0
fi

breaches=()
# Integers only, so a share exactly at the limit passes.
if ((errors * 10000 > MAX_5XX_BASIS_POINTS * requests)); then
  breaches+=("5xx responses: $errors of $requests ($percent%) is above the limit of $limit_percent%")
fi
if ((p95 > MAX_P95_MS)); then
  breaches+=("95th-percentile request time: ${p95} ms is above the limit of $MAX_P95_MS ms")
fi
if ((${#breaches[@]} == 0)); then
  echo "dropstack: the release held up for ${WINDOW_S}s"
  exit 0
fi

{
  echo "dropstack: the release breached its post-deploy limits:"
  printf '  %s\n' "${breaches[@]}"
  previous=$(grep -vxF -- "$CURRENT_IMAGE" "$HISTORY" 2>/dev/null | tail -n 1 || true)
  reference=""
  if [[ -n $previous ]]; then
    reference=$(docker image inspect --format '{{join .RepoDigests " "}}' "$previous" 2>/dev/null || true)
    reference=${reference%% *}
  fi
  if [[ -n $reference ]]; then
    echo "dropstack: roll back to the previous image ($previous), as docs/rollback.md \"Code rollback\" says:"
    echo "  pulumi config set --path 'dropstack:app.image' '$reference' --stack $STACK"
    echo "  pulumi up --stack $STACK --policy-pack policies --policy-pack-config policies/$STACK.json"
    echo "(production ships only what staging promoted: docs/rollback.md says when to set dropstack:promotion.allowUnpromoted)"
    echo "$ROLLBACK_MARKER $reference"
    if [[ $AUTO_ROLLBACK == true ]]; then
      echo "dropstack:app.watch.rollback is on: the deploy job runs these (npm run rollback) now"
    fi
  else
    echo "dropstack: the droplet records no earlier deployed image with a digest; find the previous one with"
    echo "  pulumi stack history --stack $STACK"
    echo "and roll back as docs/rollback.md \"Code rollback\" says."
  fi
} >&2
exit 1
