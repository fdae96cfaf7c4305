#!/bin/sh
# Certificates for the nginx of a dropstack droplet. Runs in the certbot/certbot image
# (Alpine: busybox sh, openssl), sharing WEBROOT and CERT_DIR with the nginx container.
#
# For each domain nginx reads CERT_DIR/<domain>/fullchain.pem and privkey.pem. Until
# Let's Encrypt has issued one, a self-signed placeholder stands there so nginx can start
# and serve the HTTP-01 challenge from WEBROOT; an existing pair is never replaced by a
# placeholder. certbot keeps its lineages in CERTBOT_CONFIG_DIR; each issued or renewed
# certificate is copied into CERT_DIR, where nginx's entrypoint notices it and reloads.
#
# Usage: certbot.sh [loop|once|placeholder]
#   loop (default)  placeholders, then obtain/renew every RENEW_INTERVAL seconds; after a
#                   failure retry sooner (RETRY_INTERVAL, doubling up to an hour)
#   once            placeholders and a single obtain/renew pass; exits non-zero on failure
#   placeholder     only write the missing placeholders
#
# Environment: DOMAINS (space-separated, required), ACME_EMAIL, ACME_STAGING (1 = staging
# CA), WEBROOT, CERT_DIR, CERTBOT_CONFIG_DIR, RENEW_INTERVAL, RETRY_INTERVAL.
set -eu

: "${DOMAINS:?DOMAINS must list the domains, separated by spaces}"
: "${ACME_EMAIL:=}"
: "${ACME_STAGING:=0}"
: "${WEBROOT:=/var/www/acme}"
: "${CERT_DIR:=/etc/dropstack/certs}"
: "${CERTBOT_CONFIG_DIR:=/etc/letsencrypt}"
: "${RENEW_INTERVAL:=43200}"
: "${RETRY_INTERVAL:=300}"
MAX_RETRY_INTERVAL=3600
PLACEHOLDER_DAYS=30

log() {
  printf '%s certbot.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

# Staging and production certificates live in separate lineages, so switching tls.staging
# off never keeps serving a staging certificate that is still "valid".
lineage_of() {
  if [ "$ACME_STAGING" = 1 ]; then printf '%s.staging' "$1"; else printf '%s' "$1"; fi
}

has_certificate() {
  [ -s "$CERT_DIR/$1/fullchain.pem" ] && [ -s "$CERT_DIR/$1/privkey.pem" ]
}

# Writes both files into a temp dir beside the target and renames them into place, so
# nginx never reads a half-written file.
ensure_placeholder() {
  domain=$1
  if has_certificate "$domain"; then
    return 0
  fi
  dir="$CERT_DIR/$domain"
  mkdir -p "$dir" || return 1
  tmp=$(mktemp -d "$dir/.placeholder.XXXXXX") || return 1
  if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -days "$PLACEHOLDER_DAYS" -subj "/CN=$domain" -addext "subjectAltName=DNS:$domain" \
      -keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" 2>"$tmp/openssl.log" &&
    chmod 600 "$tmp/privkey.pem" &&
    mv -f "$tmp/privkey.pem" "$dir/privkey.pem" &&
    mv -f "$tmp/fullchain.pem" "$dir/fullchain.pem"; then
    : >"$dir/placeholder"
    rm -rf "$tmp"
    log "$domain: self-signed placeholder written until Let's Encrypt issues the real certificate"
  else
    cat "$tmp/openssl.log" >&2 2>/dev/null || true
    rm -rf "$tmp"
    log "$domain: could not write a placeholder certificate"
    return 1
  fi
}

# certbot decides itself whether anything is due (--keep-until-expiring renews within
# 30 days of expiry), so the same call both issues and renews.
obtain() {
  domain=$1
  set -- certonly --non-interactive --agree-tos --keep-until-expiring \
    --webroot --webroot-path "$WEBROOT" \
    --config-dir "$CERTBOT_CONFIG_DIR" \
    --cert-name "$(lineage_of "$domain")" -d "$domain"
  if [ -n "$ACME_EMAIL" ]; then
    set -- "$@" --email "$ACME_EMAIL" --no-eff-email
  else
    set -- "$@" --register-unsafely-without-email
  fi
  if [ "$ACME_STAGING" = 1 ]; then
    set -- "$@" --staging
  fi
  certbot "$@"
}

# Copies the lineage's current files into CERT_DIR when they differ from what nginx has.
install() {
  domain=$1
  live="$CERTBOT_CONFIG_DIR/live/$(lineage_of "$domain")"
  dir="$CERT_DIR/$domain"
  if [ ! -s "$live/fullchain.pem" ] || [ ! -s "$live/privkey.pem" ]; then
    log "$domain: certbot reported success but $live holds no certificate"
    return 1
  fi
  if cmp -s "$live/fullchain.pem" "$dir/fullchain.pem" && cmp -s "$live/privkey.pem" "$dir/privkey.pem"; then
    return 0
  fi
  mkdir -p "$dir" || return 1
  tmp=$(mktemp -d "$dir/.install.XXXXXX") || return 1
  if cp "$live/fullchain.pem" "$tmp/fullchain.pem" &&
    cp "$live/privkey.pem" "$tmp/privkey.pem" &&
    chmod 600 "$tmp/privkey.pem" &&
    mv -f "$tmp/privkey.pem" "$dir/privkey.pem" &&
    mv -f "$tmp/fullchain.pem" "$dir/fullchain.pem"; then
    rm -rf "$tmp"
    rm -f "$dir/placeholder"
    log "$domain: installed the certificate from $live"
  else
    rm -rf "$tmp"
    log "$domain: could not install the certificate from $live"
    return 1
  fi
}

placeholders() {
  status=0
  for domain in $DOMAINS; do
    ensure_placeholder "$domain" || status=1
  done
  return "$status"
}

one_pass() {
  status=0
  placeholders || status=1
  for domain in $DOMAINS; do
    if obtain "$domain" && install "$domain"; then
      :
    else
      log "$domain: no certificate this time; the current one keeps being served"
      status=1
    fi
  done
  return "$status"
}

# Sleeping in the background lets the TERM trap run at once: as PID 1 of a container the
# shell would otherwise ignore `docker stop` until the sleep ends.
pause() {
  sleep "$1" &
  wait "$!" || true
}

trap 'exit 0' TERM INT

case "${1:-loop}" in
  placeholder)
    placeholders
    ;;
  once)
    one_pass
    ;;
  loop)
    delay=$RETRY_INTERVAL
    while :; do
      if one_pass; then
        delay=$RETRY_INTERVAL
        pause "$RENEW_INTERVAL"
      else
        log "retrying in ${delay}s"
        pause "$delay"
        delay=$((delay * 2))
        if [ "$delay" -gt "$MAX_RETRY_INTERVAL" ]; then delay=$MAX_RETRY_INTERVAL; fi
      fi
    done
    ;;
  *)
    echo "usage: $0 [loop|once|placeholder]" >&2
    exit 64
    ;;
esac
