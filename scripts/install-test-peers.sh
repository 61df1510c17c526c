#!/usr/bin/env bash
# Installs the real peers Tribune's tests and benchmarks talk to. Idempotent: what is already installed
# or built is left alone, so a second run takes seconds.
#   Debian: python3-consul (a second Consul client), dnsutils (dig), serf (gossip peer),
#           iproute2 and iptables (network namespaces and partitions), dnsperf (DNS load).
#   Go (built from the Go module proxy with the machine's toolchain, pinned in scripts/peers/versions.env):
#           etcd, consul, kube-apiserver, kubectl, helm, cached in ~/.cache/tribune-peers/<name>-<version>.
set -euo pipefail

DEBIAN_PACKAGES=(python3-consul dnsutils serf iproute2 iptables dnsperf)

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

# --- Reference systems built from Go modules ------------------------------------------------------------

PEERS_SRC="$(cd "$(dirname "$0")/peers" && pwd)"
# shellcheck source=scripts/peers/versions.sh
. "$PEERS_SRC/versions.sh"

# The machine's toolchain only: a go.mod asking for a newer Go must fail here, not fetch a toolchain.
export GOTOOLCHAIN=local CGO_ENABLED=0

fail() {
  echo "install-test-peers: $*" >&2
  exit 1
}

# A cold build of all five fills about 9 GB (5.3 GB Go build cache, 3 GB modules, 0.4 GB binaries): say so
# up front rather than let the compiler die of a full disk halfway through.
NEEDED_GB=10
disk_checked=""
check_disk() {
  [ -n "$disk_checked" ] && return 0
  disk_checked=1
  local cache free_gb
  cache="$(go env GOCACHE)"
  mkdir -p "$cache"
  free_gb=$(($(df -Pk "$cache" | awk 'NR == 2 { print $4 }') / 1024 / 1024))
  [ "$free_gb" -ge "$NEEDED_GB" ] ||
    fail "building the reference systems needs about $NEEDED_GB GB free; $cache has $free_gb GB"
}

# build NAME WRAPPER_DIR MODULE PACKAGE [-X ...]: builds PACKAGE inside scripts/peers/WRAPPER_DIR unless
# the cached binary exists. The binary is renamed into place only once it built and reported its version.
build() {
  local name="$1" dir="$PEERS_SRC/$2" module="$3" package="$4"
  shift 4
  local version out partial log started
  version="$(peer_version "$name")"
  out="$(peer_binary "$name")"
  [ -x "$out" ] && { echo "install-test-peers: $name $version cached ($out)"; return 0; }

  grep -Eq "^[[:space:]]*(require[[:space:]]+)?$module v$version( |$)" "$dir/go.mod" ||
    fail "$dir/go.mod does not require $module v$version, as scripts/peers/versions.env pins: update both together"
  command -v go >/dev/null || fail "building $name needs the Go toolchain (go) on PATH"
  check_disk

  # Logs and half-built binaries live in logs/, so only finished binaries are named <name>-<version>.
  mkdir -p "$TRIBUNE_PEERS_DIR/logs"
  log="$TRIBUNE_PEERS_DIR/logs/$name-$version.log"
  partial="$TRIBUNE_PEERS_DIR/logs/$name-$version.partial"
  echo "install-test-peers: building $name $version (first time, several minutes; log: $log)"
  started=$SECONDS
  local ldflags="-s -w"
  local flag
  for flag in "$@"; do ldflags+=" $flag"; done
  # nice: the machine has 2 cores shared with tests and other builds. -mod=readonly: go.sum pins the build.
  if ! (cd "$dir" && nice -n 10 go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$partial" "$package") \
    >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$partial"
    fail "building $name $version failed after $((SECONDS - started)) s; full log: $log"
  fi
  check_version "$name" "$version" "$partial" >>"$log" 2>&1 ||
    { rm -f "$partial"; fail "$name $version built but does not report version $version; see $log"; }
  mv "$partial" "$out"
  echo "install-test-peers: built $name $version in $((SECONDS - started)) s ($(du -h "$out" | cut -f1))"
}

# check_version NAME VERSION BINARY: the binary's own version command must print the pinned version.
check_version() {
  local name="$1" version="$2" binary="$3" output
  case "$name" in
    etcd | kube-apiserver) output="$("$binary" --version)" ;;
    consul) output="$("$binary" version)" ;;
    kubectl) output="$("$binary" version --client)" ;;
    helm) output="$("$binary" version)" ;;
  esac
  echo "$output"
  grep -qF "$version" <<<"$output"
}

IFS=. read -r k8s_major k8s_minor _ <<<"$KUBERNETES_VERSION"
# Kubernetes' own build stamps these from git; a module build has no git, so they are set here
# (component-base for the servers, client-go for kubectl's client half).
k8s_version_flags=()
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_version_flags+=("-X $pkg.gitVersion=v$KUBERNETES_VERSION" "-X $pkg.gitMajor=$k8s_major"
    "-X $pkg.gitMinor=$k8s_minor" "-X $pkg.gitTreeState=clean" "-X $pkg.gitCommit=")
done

# One after another: parallel builds on 2 cores only thrash. Smallest first, so a broken toolchain shows early.
build_started=$SECONDS
build etcd etcd go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3
build helm helm helm.sh/helm/v3 helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
build consul consul github.com/hashicorp/consul github.com/hashicorp/consul
build kubectl kubernetes k8s.io/kubernetes k8s.io/kubernetes/cmd/kubectl "${k8s_version_flags[@]}"
build kube-apiserver kubernetes k8s.io/kubernetes k8s.io/kubernetes/cmd/kube-apiserver "${k8s_version_flags[@]}"
echo "install-test-peers: Go-built peers ready in $((SECONDS - build_started)) s ($TRIBUNE_PEERS_DIR)"

echo "install-test-peers: done"
