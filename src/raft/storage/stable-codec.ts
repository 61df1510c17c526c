import { decode, encode } from '@msgpack/msgpack';
import { describe, requireCount } from './checks.ts';
import { StorageError } from './errors.ts';
import type { HardState, SnapshotPoint } from './types.ts';

// The log's stable records (hard state, snapshot point) as msgpack, checked both when a caller hands them
// in and when they are read back from disk.

export const INITIAL_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });
export const INITIAL_SNAPSHOT_POINT: SnapshotPoint = Object.freeze({ index: 0, term: 0 });

/** A frozen, validated copy of a hard state. */
export function checkHardState(value: unknown): HardState {
  if (typeof value !== 'object' || value === null) {
    throw new StorageError(`hard state must be an object, got ${describe(value)}`);
  }
  const { term, vote, commit } = value as Record<string, unknown>;
  if (vote !== null && (typeof vote !== 'string' || vote === '')) {
    throw new StorageError(`hard state vote must be a server ID or null, got ${describe(vote)}`);
  }
  return Object.freeze({
    term: requireCount(term, 'hard state term'),
    vote,
    commit: requireCount(commit, 'hard state commit'),
  });
}

/** A frozen, validated copy of a snapshot point. */
export function checkSnapshotPoint(value: unknown): SnapshotPoint {
  if (typeof value !== 'object' || value === null) {
    throw new StorageError(`snapshot point must be an object, got ${describe(value)}`);
  }
  const { index, term } = value as Record<string, unknown>;
  return Object.freeze({
    index: requireCount(index, 'snapshot index'),
    term: requireCount(term, 'snapshot term'),
  });
}

export function encodeRecord(record: HardState | SnapshotPoint): Uint8Array {
  return encode(record);
}

/** Decodes a stored record with `check`, naming the record and the file when it is corrupt. */
export function decodeRecord<T>(bytes: Uint8Array, check: (value: unknown) => T, what: string): T {
  try {
    return check(decode(bytes));
  } catch (err) {
    throw new StorageError(`stored ${what} is corrupt: ${(err as Error).message}`);
  }
}
