#!/usr/bin/env bash
# The deployment tests (tests/deploy/) run Debian's nginx in front of gunicorn, as
# docs/deploy.md does; install it when missing, as scripts/ensure_chromium.sh does Chromium.
set -euo pipefail
nginx=${NGINX_PATH:-/usr/sbin/nginx}
if [ -x "$nginx" ]; then
  echo "nginx: $("$nginx" -v 2>&1)"
  exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "nginx: not installed; installing Debian's nginx package"
  apt-get update -qq
  # The tests run their own nginx on spare ports; the package's own service (port 80, where
  # the system starts services) is never used by them.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  exit 0
fi
echo "error: $nginx not found. Install nginx (Debian: sudo apt-get install nginx)" \
  "or set NGINX_PATH to an nginx binary." >&2
exit 1
