import { decodeValue, encodeValue } from './codec.ts';
import type { StateDB, TombstoneRow } from './schema.ts';
import type { CheckRow, KVRow, NodeRow, PreparedQueryRow, ServiceRow, SessionRow } from './types.ts';

// The whole state as one msgpack document: what Raft snapshots hold and `/v1/snapshot` carries.

const FORMAT_VERSION = 1;

interface SnapshotDocument {
  version: number;
  index: number;
  nodes: NodeRow[];
  services: ServiceRow[];
  checks: CheckRow[];
  kvs: KVRow[];
  tombstones: TombstoneRow[];
  sessions: SessionRow[];
  /** Absent from snapshots taken before prepared queries existed. */
  preparedQueries?: PreparedQueryRow[];
  indexes: [string, number][];
  lockDelays: [string, number][];
}

export class SnapshotError extends Error {}

export function encodeSnapshot(db: StateDB, index: number): Uint8Array {
  const document: SnapshotDocument = {
    version: FORMAT_VERSION,
    index,
    nodes: [...db.nodes.values()],
    services: [...db.services.values()],
    checks: [...db.checks.values()],
    kvs: [...db.kvs.values()],
    tombstones: [...db.tombstones.values()],
    sessions: [...db.sessions.values()],
    preparedQueries: [...db.preparedQueries.values()],
    indexes: [...db.indexes.entries()],
    lockDelays: [...db.lockDelays.entries()],
  };
  return encodeValue(document);
}

/** Replaces the contents of `db` with a snapshot; returns the snapshot's index. */
export function restoreSnapshot(db: StateDB, bytes: Uint8Array): number {
  let document: SnapshotDocument;
  try {
    document = decodeValue(bytes) as SnapshotDocument;
  } catch (err) {
    throw new SnapshotError(`snapshot is not valid msgpack: ${(err as Error).message}`);
  }
  if (typeof document !== 'object' || document === null || document.version !== FORMAT_VERSION) {
    throw new SnapshotError(`unsupported snapshot format version ${String(document?.version)}`);
  }
  db.nodes.reset(document.nodes);
  db.services.reset(document.services);
  db.checks.reset(document.checks);
  db.kvs.reset(document.kvs);
  db.tombstones.reset(document.tombstones);
  db.sessions.reset(document.sessions);
  db.preparedQueries.reset(document.preparedQueries ?? []);
  db.indexes.reset(document.indexes);
  db.lockDelays.reset(document.lockDelays);
  return document.index;
}
