#!/bin/sh
# Entrypoint of the nginx container in load-balancer mode (the load balancer terminates TLS, so
# there is no certificate to wait for; nginx-entrypoint.sh is the one with TLS). Runs nginx in
# the foreground at once and reloads it whenever the config file changes (so a new nginx.conf
# written onto a bind mount applies without restarting the container). A change that fails
# `nginx -t` is not loaded: nginx keeps serving the previous config and the check repeats on the
# next round. SIGTERM and SIGQUIT stop nginx gracefully (in-flight requests finish); the script
# exits with nginx's status, so Docker restarts a crashed nginx.
#
# Environment: NGINX_CONF, CONF_CHECK_INTERVAL (seconds between checks).
set -eu

: "${NGINX_CONF:=/etc/dropstack/nginx/nginx.conf}"
: "${CONF_CHECK_INTERVAL:=60}"

log() {
  printf '%s nginx-lb-entrypoint.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

fingerprint() {
  { cat "$NGINX_CONF" 2>/dev/null || true; } | cksum
}

nginx -c "$NGINX_CONF" -g 'daemon off;' &
nginx_pid=$!
stopping=0
trap 'stopping=1; kill -QUIT "$nginx_pid" 2>/dev/null || true' TERM QUIT INT
loaded=$(fingerprint)
log "nginx started (pid $nginx_pid)"

while [ "$stopping" = 0 ] && kill -0 "$nginx_pid" 2>/dev/null; do
  # In the background so a stop signal is handled at once, not after the sleep.
  sleep "$CONF_CHECK_INTERVAL" &
  wait "$!" || true
  if [ "$stopping" = 1 ] || ! kill -0 "$nginx_pid" 2>/dev/null; then
    break
  fi
  current=$(fingerprint)
  if [ "$current" != "$loaded" ]; then
    if nginx -t -q -c "$NGINX_CONF" && nginx -s reload -c "$NGINX_CONF"; then
      loaded=$current
      log "config changed: nginx reloaded"
    else
      log "config changed but nginx -t rejects it; still serving the previous one"
    fi
  fi
done

# A second signal interrupts `wait` before nginx is done; wait again until it has exited.
while :; do
  status=0
  wait "$nginx_pid" || status=$?
  kill -0 "$nginx_pid" 2>/dev/null || break
done
log "nginx exited with status $status"
exit "$status"
