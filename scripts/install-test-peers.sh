#!/usr/bin/env bash
# Installs the real peers Tribune's tests talk to. Idempotent: what is already installed is left alone.
#   Debian: python3-consul (a second Consul client), dnsutils (dig), serf (gossip peer),
#           iproute2 and iptables (network namespaces and partitions).
set -euo pipefail

DEBIAN_PACKAGES=(python3-consul dnsutils serf iproute2 iptables)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "install-test-peers: need root (or sudo) to install: $*" >&2
    return 1
  fi
}

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-peers: Debian packages present (${DEBIAN_PACKAGES[*]})"
else
  echo "install-test-peers: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

/usr/bin/python3 -c 'import consul' || { echo "install-test-peers: python3-consul is not importable" >&2; exit 1; }
echo "install-test-peers: done"
