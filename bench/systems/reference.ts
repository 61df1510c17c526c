import { type PeerName, peerBinary, peersDir, peerVersion } from '../peers.ts';

// A reference system's binary from ~/.cache/tribune-peers (scripts/install-test-peers.sh builds them). A
// missing one makes the benchmark run Tribune alone and say so, except under TRIBUNE_REQUIRE_PEERS=1, where
// it is an error, as for the tests.

export function referenceBinary(name: PeerName): string | undefined {
  const path = peerBinary(name);
  if (path) return path;
  const message = `${name}-${peerVersion(name)} is not in ${peersDir()} (scripts/install-test-peers.sh builds it)`;
  if (process.env.TRIBUNE_REQUIRE_PEERS === '1') throw new Error(`${message}; TRIBUNE_REQUIRE_PEERS=1`);
  return undefined;
}

export function missingReferenceNote(name: PeerName): string {
  return `${name}-${peerVersion(name)} not found in ${peersDir()}: Tribune ran alone, no ratio`;
}
