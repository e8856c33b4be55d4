#!/usr/bin/env bash
# The multi-host tests (tests/netns.py) need `ip` (iproute2) for network namespaces and veth
# pairs, and `socat` to relay the services into them. As root, install what is missing; as
# anyone else, say so: those tests then skip with the reason (namespaces need root anyway).
set -euo pipefail
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v socat >/dev/null || missing+=(socat)
if [ ${#missing[@]} -eq 0 ]; then
  echo "netns tools: ip and socat present"
  exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "netns tools: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "warning: ${missing[*]} not installed and not root: the multi-host tests will skip" \
  "(Debian: sudo apt-get install ${missing[*]})." >&2
