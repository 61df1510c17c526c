import type { SessionInput } from './commands.ts';
import { StateError } from './errors.ts';
import { releaseSessionLocks } from './kv-write.ts';
import { deleteSessionQueries } from './query-write.ts';
import { bumpTable, checkKey, lower, sessionWatchKey, type WriteTx } from './schema.ts';
import type { SessionRow } from './types.ts';

// Sessions: created against a live node and non-critical checks, destroyed by request, TTL expiry, node
// removal or a bound check turning critical; destruction releases or deletes their locks (Behavior) and
// holds those keys for LockDelay.

export function createSession(tx: WriteTx, input: SessionInput): SessionRow {
  const { db } = tx;
  if (db.sessions.get(input.ID)) throw new StateError(`Session ID "${input.ID}" is already in use`);
  const node = db.nodes.get(lower(input.Node));
  if (!node) throw new StateError(`Missing node registration for "${input.Node}"`);
  for (const checkId of boundCheckIds(input)) {
    const check = db.checks.get(checkKey(node.Node, checkId));
    if (!check) throw new StateError(`Missing check '${checkId}' registration`);
    if (check.Status === 'critical') throw new StateError(`Check '${checkId}' is in critical state`);
  }
  const row: SessionRow = { ...input, Node: node.Node, CreateIndex: tx.index, ModifyIndex: tx.index };
  db.sessions.put(row);
  bumpTable(tx, 'sessions');
  db.journal.touch(sessionWatchKey(row.ID));
  return row;
}

export function destroySession(tx: WriteTx, id: string): boolean {
  const session = tx.db.sessions.remove(id);
  if (!session) return false;
  bumpTable(tx, 'sessions');
  tx.db.journal.touch(sessionWatchKey(id));
  releaseSessionLocks(tx, id, session.Behavior === 'delete', tx.now + session.LockDelay / 1e6);
  deleteSessionQueries(tx, id);
  return true;
}

export function sessionsBoundToCheck(tx: WriteTx, nodeName: string, checkId: string): SessionRow[] {
  return [...tx.db.sessions.group('node', lower(nodeName))].filter((s) => boundCheckIds(s).includes(checkId));
}

function boundCheckIds(session: Pick<SessionRow, 'NodeChecks' | 'ServiceChecks'>): string[] {
  return [...session.NodeChecks, ...session.ServiceChecks.map((c) => c.ID)];
}
