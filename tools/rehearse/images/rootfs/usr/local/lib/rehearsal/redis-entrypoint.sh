#!/bin/sh
# What the official redis image's entrypoint does for redis-server: own /data, drop root.
set -e
if [ "$1" = "redis-server" ] && [ "$(id -u)" = 0 ]; then
  find /data \! -user redis -exec chown redis:redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
