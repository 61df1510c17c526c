import type { KVOp } from './commands.ts';
import { StateError } from './errors.ts';
import { bumpTable, type WriteTx } from './schema.ts';
import type { KVRow } from './types.ts';

// KV writes with Consul's semantics. Each returns false where Consul's API answers `false` (a failed cas,
// acquire or release) and throws where Consul's FSM returns an error.

export function applyKVWrite(tx: WriteTx, op: KVOp): boolean {
  switch (op.Verb) {
    case 'set':
      setEntry(tx, op, false);
      return true;
    case 'cas':
      return compareAndSet(tx, op);
    case 'lock':
      return acquire(tx, op);
    case 'unlock':
      return release(tx, op);
    case 'delete':
      deleteEntry(tx, op.Key);
      return true;
    case 'delete-cas':
      return compareAndDelete(tx, op);
    case 'delete-tree':
      deleteTree(tx, op.Key);
      return true;
    default:
      throw new StateError(`Unknown KV operation "${op.Verb}"`);
  }
}

/** Writes an entry, keeping its CreateIndex and LockIndex, and its Session unless `updateSession`. */
function setEntry(tx: WriteTx, op: KVOp, updateSession: boolean, lockIndex?: number): KVRow {
  const existing = tx.db.kvs.get(op.Key);
  const row: KVRow = {
    Key: op.Key,
    Flags: op.Flags,
    Value: op.Value,
    LockIndex: lockIndex ?? existing?.LockIndex ?? 0,
    Session: updateSession ? op.Session : (existing?.Session ?? ''),
    CreateIndex: existing?.CreateIndex ?? tx.index,
    ModifyIndex: tx.index,
  };
  tx.db.kvs.put(row);
  kvChanged(tx, op.Key);
  return row;
}

function compareAndSet(tx: WriteTx, op: KVOp): boolean {
  const existing = tx.db.kvs.get(op.Key);
  if (op.Index === 0 ? existing !== undefined : existing?.ModifyIndex !== op.Index) return false;
  setEntry(tx, op, false);
  return true;
}

function acquire(tx: WriteTx, op: KVOp): boolean {
  const session = requireSession(tx, op);
  const delayedUntil = tx.db.lockDelays.get(op.Key);
  if (delayedUntil !== undefined) {
    if (tx.now < delayedUntil) return false;
    tx.db.lockDelays.set(op.Key, undefined);
  }
  const existing = tx.db.kvs.get(op.Key);
  if (existing?.Session) {
    if (existing.Session !== session) return false;
    setEntry(tx, op, true, existing.LockIndex);
  } else {
    setEntry(tx, op, true, (existing?.LockIndex ?? 0) + 1);
  }
  return true;
}

/** As Consul's kvsUnlockTxn: the session need not exist any more; only the holder's release changes the key. */
function release(tx: WriteTx, op: KVOp): boolean {
  if (!op.Session) throw new StateError('Missing session');
  const existing = tx.db.kvs.get(op.Key);
  if (!existing || existing.Session !== op.Session) return false;
  setEntry(tx, { ...op, Session: '' }, true, existing.LockIndex);
  return true;
}

function requireSession(tx: WriteTx, op: KVOp): string {
  if (!op.Session) throw new StateError('Missing session');
  if (!tx.db.sessions.get(op.Session)) throw new StateError(`invalid session "${op.Session}"`);
  return op.Session;
}

function compareAndDelete(tx: WriteTx, op: KVOp): boolean {
  const existing = tx.db.kvs.get(op.Key);
  if (!existing) return true;
  if (existing.ModifyIndex !== op.Index) return false;
  deleteEntry(tx, op.Key);
  return true;
}

/** Deletes one key, leaving a tombstone so that prefix queries never see their index go backwards. */
export function deleteEntry(tx: WriteTx, key: string): boolean {
  if (!tx.db.kvs.remove(key)) return false;
  tx.db.tombstones.put({ Key: key, Index: tx.index });
  bumpTable(tx, 'tombstones');
  kvChanged(tx, key);
  return true;
}

function deleteTree(tx: WriteTx, prefix: string): void {
  for (const row of [...tx.db.kvs.prefix(prefix)]) deleteEntry(tx, row.Key);
}

/** Releases or deletes an invalidated session's locks, as its Behavior says, and starts their lock delay. */
export function releaseSessionLocks(
  tx: WriteTx,
  sessionId: string,
  deleteKeys: boolean,
  delayUntil: number,
): void {
  for (const row of [...tx.db.kvs.group('session', sessionId)]) {
    if (deleteKeys) {
      deleteEntry(tx, row.Key);
    } else {
      tx.db.kvs.put({ ...row, Session: '', ModifyIndex: tx.index });
      kvChanged(tx, row.Key);
    }
    if (delayUntil > tx.now) tx.db.lockDelays.set(row.Key, delayUntil);
  }
}

/** Forgets tombstones at or below `reapIndex`, and lock delays that have run out. */
export function reapTombstones(tx: WriteTx, reapIndex: number): void {
  const stale = [...tx.db.tombstones.values()].filter((t) => t.Index <= reapIndex);
  for (const tombstone of stale) tx.db.tombstones.remove(tombstone.Key);
  if (stale.length > 0) bumpTable(tx, 'tombstones');
  for (const [key, until] of [...tx.db.lockDelays.entries()]) {
    if (until <= tx.now) tx.db.lockDelays.set(key, undefined);
  }
}

function kvChanged(tx: WriteTx, key: string): void {
  bumpTable(tx, 'kvs');
  tx.db.journal.touchKV(key);
}
