import { spawnSync } from 'node:child_process';
import { type PeerName, peerBinary } from '../../bench/peers.ts';

// Real peers (python3-consul, dig, serf...) come from scripts/install-test-peers.sh. A test that needs a
// missing peer skips with a message, except under TRIBUNE_REQUIRE_PEERS=1 (CI), where it fails.

/** Returns false when the peer is there, or the skip message; throws when peers are required. */
export function missingPeer(name: string, probe: string[]): string | false {
  const [command, ...args] = probe;
  const result = spawnSync(command!, args, { stdio: 'ignore' });
  if (result.status === 0) return false;
  return skipOrThrow(`${name} is not installed (run scripts/install-test-peers.sh)`);
}

/** missingPeer for the reference systems the script builds from Go modules (etcd, consul, ...). */
export function peerBinaryMissing(name: PeerName): string | false {
  if (peerBinary(name)) return false;
  return skipOrThrow(`${name} is not built (run scripts/install-test-peers.sh)`);
}

function skipOrThrow(message: string): string {
  if (process.env.TRIBUNE_REQUIRE_PEERS === '1') throw new Error(`required test peer missing: ${message}`);
  return message;
}

/** Debian's python3-consul is only visible to Debian's own interpreter, not the python3 first on PATH. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export const pythonConsulMissing = () =>
  missingPeer('python3-consul', [DEBIAN_PYTHON, '-c', 'import consul']);
