import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// The reference systems built by scripts/install-test-peers.sh. Versions come from
// scripts/peers/versions.env, which the script reads too, so the two cannot disagree.

export type PeerName = 'etcd' | 'consul' | 'kube-apiserver' | 'kubectl' | 'helm';

const VERSION_KEY: Record<PeerName, string> = {
  etcd: 'ETCD_VERSION',
  consul: 'CONSUL_VERSION',
  'kube-apiserver': 'KUBERNETES_VERSION',
  kubectl: 'KUBERNETES_VERSION',
  helm: 'HELM_VERSION',
};

const VERSIONS_FILE = new URL('../scripts/peers/versions.env', import.meta.url);

let pinned: Map<string, string> | undefined;

function readPinned(): Map<string, string> {
  if (pinned) return pinned;
  pinned = new Map();
  for (const line of readFileSync(VERSIONS_FILE, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(\S+)\s*$/.exec(line);
    if (match) pinned.set(match[1]!, match[2]!);
  }
  return pinned;
}

/** The pinned release of a reference system, e.g. '1.22.7' for consul. */
export function peerVersion(name: PeerName): string {
  const version = readPinned().get(VERSION_KEY[name]);
  if (!version) throw new Error(`${VERSION_KEY[name]} is missing from scripts/peers/versions.env`);
  return version;
}

/** Where the script caches binaries; TRIBUNE_PEERS_DIR overrides it, as for the script. */
export function peersDir(): string {
  return process.env.TRIBUNE_PEERS_DIR || join(homedir(), '.cache', 'tribune-peers');
}

/** The cached binary of a reference system, or undefined when the script has not built it yet. */
export function peerBinary(name: PeerName): string | undefined {
  const path = join(peersDir(), `${name}-${peerVersion(name)}`);
  return existsSync(path) ? path : undefined;
}
