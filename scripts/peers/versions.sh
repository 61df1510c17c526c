# Source this for the pinned reference systems: sets ETCD_VERSION and friends, TRIBUNE_PEERS_DIR, and
# defines peer_binary NAME (etcd, consul, kube-apiserver, kubectl, helm), which prints the cached path.
# shellcheck shell=bash

TRIBUNE_PEERS_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/peers/versions.env
. "$TRIBUNE_PEERS_SRC/versions.env"
TRIBUNE_PEERS_DIR="${TRIBUNE_PEERS_DIR:-$HOME/.cache/tribune-peers}"

peer_version() {
  case "$1" in
    etcd) echo "$ETCD_VERSION" ;;
    consul) echo "$CONSUL_VERSION" ;;
    kube-apiserver | kubectl) echo "$KUBERNETES_VERSION" ;;
    helm) echo "$HELM_VERSION" ;;
    *) echo "peer_version: unknown peer '$1'" >&2; return 1 ;;
  esac
}

peer_binary() {
  local version
  version="$(peer_version "$1")" || return 1
  echo "$TRIBUNE_PEERS_DIR/$1-$version"
}
