#!/usr/bin/env bash
# dropstack smoke checks, run on the droplet after the rollout (components/hooks/commands.ts
# renderSmokeCommand pins the parameters above this text). Every request goes over HTTPS
# to ADDRESS: curl --resolve pins each name to it, so DNS plays no part. That is nginx on this
# host (loopback), or, behind a load balancer, the load balancer's address. Every check runs, whatever the others did; the failures are listed
# together at the end and the script exits 1 if there was any, 0 when all passed.
#
# Parameters (environment):
#   PORT            the HTTPS port at ADDRESS
#   ADDRESS         where the requests go; 127.0.0.1 (nginx on this host) when unset
#   INSECURE        1 only with tls.staging: the staging CA is in no trust store
#   RETRIES, RETRY_DELAY_S
#                   a check that gets no answer (000) or a 5xx it did not expect is retried,
#                   since nginx may still be picking up the new replicas; any other answer is final
#   MAX_TIME_S      per request
#   CHECKS          one line per check, its fields separated by tabs: method, host, path,
#                   expected status (a code like 200, or a class like 2xx), token (1: send the
#                   bearer token), and last a fixed string the body must contain (may be empty)
#   TOKEN_URL, TOKEN_AUDIENCE
#                   the client-credentials grant, only when a check sends the token. The M2M
#                   client ID and secret arrive on stdin, one line each; neither they nor the
#                   token ever reach a command line or the output (curl reads them from pipes).
set -euo pipefail

: "${PORT:?}" "${INSECURE:?}" "${RETRIES:?}" "${RETRY_DELAY_S:?}" "${MAX_TIME_S:?}" "${CHECKS:?}"

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

status_matches() { # status_matches <got> <expected: 200 or 2xx>
  [[ $1 == "$2" ]] || [[ $2 == [1-5]xx && $1 == "${2:0:1}"[0-9][0-9] ]]
}

# Tabs never occur in a value (config refuses control characters), and only the last field
# may be empty, so splitting on tabs loses nothing.
mapfile -t checks <<<"$CHECKS"
needs_token=0
for line in "${checks[@]}"; do
  IFS=$'\t' read -r _ _ _ _ use_token _ <<<"$line"
  if [[ $use_token == 1 ]]; then needs_token=1; fi
done

# The bearer token, or why there is none. Only the token endpoint's status and its `error`
# fields are ever printed, never the response body (it holds the token).
token=""
token_problem=""
if ((needs_token)); then
  : "${TOKEN_URL:?}" "${TOKEN_AUDIENCE:?}"
  client_id="" client_secret=""
  IFS= read -r client_id || true
  IFS= read -r client_secret || true
  if [[ -z $client_id || -z $client_secret ]]; then
    token_problem="the M2M client ID and secret did not arrive on stdin"
  else
    : >"$work/token.json"
    token_code=$(curl --silent --show-error --output "$work/token.json" --write-out '%{http_code}' --max-time "$MAX_TIME_S" \
      --data-urlencode grant_type=client_credentials \
      --data-urlencode "client_id@"<(printf '%s' "$client_id") \
      --data-urlencode "client_secret@"<(printf '%s' "$client_secret") \
      --data-urlencode "audience=$TOKEN_AUDIENCE" \
      "$TOKEN_URL" 2>"$work/token.err") || token_code=000
    response=$(<"$work/token.json")
    token_pattern='"access_token"[[:space:]]*:[[:space:]]*"([^"]+)"'
    error_pattern='"error(_description)?"[[:space:]]*:[[:space:]]*"[^"]*"'
    if [[ $token_code == 200 && $response =~ $token_pattern ]]; then
      token=${BASH_REMATCH[1]}
      echo "dropstack: got a bearer token for $TOKEN_AUDIENCE from $TOKEN_URL"
    elif [[ $token_code == 000 ]]; then
      token_problem="the token endpoint $TOKEN_URL did not answer: $(head -n 1 "$work/token.err")"
    else
      detail=$(grep -oE "$error_pattern" <<<"$response" | tr '\n' ' ' || true)
      token_problem="the token endpoint $TOKEN_URL answered HTTP $token_code without a token${detail:+: $detail}"
    fi
  fi
fi

port_part=""
if [[ $PORT != 443 ]]; then port_part=":$PORT"; fi

failures=()
for i in "${!checks[@]}"; do
  IFS=$'\t' read -r method host path expected use_token body <<<"${checks[i]}"
  i=$((i + 1))
  url="https://$host$port_part$path"
  what="check $i ($method $url)"
  if [[ $use_token == 1 && -z $token ]]; then
    failures+=("$what: no bearer token: $token_problem")
    continue
  fi
  request=(curl --silent --show-error --output "$work/body" --write-out '%{http_code} %{time_total}'
    --max-time "$MAX_TIME_S" --resolve "$host:$PORT:${ADDRESS:-127.0.0.1}")
  if [[ $INSECURE == 1 ]]; then request+=(--insecure); fi
  if [[ $method == HEAD ]]; then request+=(--head); else request+=(--request "$method"); fi
  attempt=0
  while :; do
    : >"$work/body"
    if [[ $use_token == 1 ]]; then
      result=$("${request[@]}" --header @<(printf 'Authorization: Bearer %s\n' "$token") "$url" 2>"$work/err") || true
    else
      result=$("${request[@]}" "$url" 2>"$work/err") || true
    fi
    code=${result%% *}
    [[ $code =~ ^[0-9]{3}$ ]] || code=000
    seconds=${result#* }
    if status_matches "$code" "$expected"; then break; fi
    if [[ $code != 000 && $code != 5?? ]] || ((attempt >= RETRIES)); then break; fi
    attempt=$((attempt + 1))
    sleep "$RETRY_DELAY_S"
  done
  if ! status_matches "$code" "$expected"; then
    if [[ $code == 000 ]]; then
      failures+=("$what: expected HTTP $expected, got no answer: $(head -n 1 "$work/err")")
    else
      failures+=("$what: expected HTTP $expected, got $code")
    fi
  elif [[ -n $body ]] && ! grep -qF -- "$body" "$work/body"; then
    failures+=("$what: answered HTTP $code, but the body does not contain \"$body\"")
  else
    echo "dropstack: smoke $what answered HTTP $code in ${seconds}s"
  fi
done

if ((${#failures[@]} > 0)); then
  echo "dropstack: ${#failures[@]} of ${#checks[@]} smoke checks failed:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "dropstack: all ${#checks[@]} smoke checks passed"
