#!/usr/bin/env bash
# The browser tests drive Debian's Chromium; Playwright never downloads a browser here.
set -euo pipefail
browser=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ -x "$browser" ]; then
  echo "Chromium: $("$browser" --version 2>/dev/null || echo "$browser")"
  exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "Chromium: not installed; installing Debian's chromium package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null
  exit 0
fi
echo "error: $browser not found. Install Chromium (Debian: sudo apt-get install chromium)" \
  "or set CHROMIUM_PATH to a Chromium binary." >&2
exit 1
