#!/bin/sh
# Entrypoint of the nginx container of a dropstack droplet (official nginx image: busybox
# sh on Alpine, dash on Debian). Waits until every domain has a certificate in CERT_DIR
# (the certbot container writes a placeholder first, the real one later), runs nginx in the
# foreground, and reloads it whenever a certificate file or the config file changes (so a
# new nginx.conf written onto a bind mount applies without restarting the container). A
# change that fails `nginx -t` is not loaded: nginx keeps serving with the previous files
# and the check repeats on the next round. SIGTERM and SIGQUIT stop nginx gracefully (in-flight requests
# finish); the script exits with nginx's status, so Docker restarts a crashed nginx.
#
# Environment: DOMAINS (space-separated, required), NGINX_CONF, CERT_DIR,
# CERT_CHECK_INTERVAL (seconds between checks), CERT_WAIT (seconds to wait for the first
# certificates before giving up).
set -eu

: "${DOMAINS:?DOMAINS must list the domains, separated by spaces}"
: "${NGINX_CONF:=/etc/dropstack/nginx/nginx.conf}"
: "${CERT_DIR:=/etc/dropstack/certs}"
: "${CERT_CHECK_INTERVAL:=60}"
: "${CERT_WAIT:=300}"

log() {
  printf '%s nginx-entrypoint.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

certificates_present() {
  for domain in $DOMAINS; do
    [ -s "$CERT_DIR/$domain/fullchain.pem" ] && [ -s "$CERT_DIR/$domain/privkey.pem" ] || return 1
  done
}

fingerprint() {
  {
    cat "$NGINX_CONF" 2>/dev/null || true
    for domain in $DOMAINS; do
      cat "$CERT_DIR/$domain/fullchain.pem" "$CERT_DIR/$domain/privkey.pem" 2>/dev/null || true
    done
  } | cksum
}

waited=0
until certificates_present; do
  if [ "$waited" -ge "$CERT_WAIT" ]; then
    log "no certificate for every one of: $DOMAINS after ${CERT_WAIT}s in $CERT_DIR"
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done

nginx -c "$NGINX_CONF" -g 'daemon off;' &
nginx_pid=$!
stopping=0
trap 'stopping=1; kill -QUIT "$nginx_pid" 2>/dev/null || true' TERM QUIT INT
loaded=$(fingerprint)
log "nginx started (pid $nginx_pid)"

while [ "$stopping" = 0 ] && kill -0 "$nginx_pid" 2>/dev/null; do
  # In the background so a stop signal is handled at once, not after the sleep.
  sleep "$CERT_CHECK_INTERVAL" &
  wait "$!" || true
  if [ "$stopping" = 1 ] || ! kill -0 "$nginx_pid" 2>/dev/null; then
    break
  fi
  current=$(fingerprint)
  if [ "$current" != "$loaded" ]; then
    if nginx -t -q -c "$NGINX_CONF" && nginx -s reload -c "$NGINX_CONF"; then
      loaded=$current
      log "certificates or config changed: nginx reloaded"
    else
      log "certificates or config changed but nginx -t rejects them; still serving the previous ones"
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
