import {
  deleteCheck,
  deleteNode,
  deleteService,
  ensureCheck,
  ensureNode,
  ensureService,
} from './catalog-write.ts';
import type { CatalogVerb, KVOp, TxnOp } from './commands.ts';
import { StateError } from './errors.ts';
import { applyKVWrite } from './kv-write.ts';
import { checkKey, lower, serviceKey, type WriteTx } from './schema.ts';
import type { CheckRow, KVRow, NodeRow, RaftIndexes, ServiceRow } from './types.ts';

// Consul's /v1/txn: ops run in order inside one write transaction; any failed op rolls back all of them and
// the client gets every error with its op index.

export type TxnResult = { KV: KVRow } | { Node: NodeRow } | { Service: ServiceRow } | { Check: CheckRow };
export interface TxnError {
  OpIndex: number;
  What: string;
}

/** Thrown inside the write transaction so the journal undoes the ops that did succeed. */
export class TxnRollback extends Error {
  constructor(readonly errors: TxnError[]) {
    super('transaction rolled back');
  }
}

const WRITE_VERBS = new Set(['set', 'cas', 'lock', 'unlock', 'delete', 'delete-cas', 'delete-tree']);

/** As Consul decides it: an op whose verb is not a known write (an unknown verb included) is a read. */
export function isReadOnly(ops: TxnOp[]): boolean {
  return ops.every((op) => !WRITE_VERBS.has(verbOf(op)));
}

export function verbOf(op: TxnOp): string {
  if ('KV' in op) return op.KV.Verb;
  if ('Node' in op) return op.Node.Verb;
  if ('Service' in op) return op.Service.Verb;
  return op.Check.Verb;
}

export function runTxn(tx: WriteTx, ops: TxnOp[]): TxnResult[] {
  const results: TxnResult[] = [];
  const errors: TxnError[] = [];
  ops.forEach((op, index) => {
    try {
      results.push(...runOp(tx, op));
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      errors.push({ OpIndex: index, What: err.message });
    }
  });
  if (errors.length > 0) throw new TxnRollback(errors);
  return results;
}

function runOp(tx: WriteTx, op: TxnOp): TxnResult[] {
  if ('KV' in op) return kvOp(tx, op.KV);
  if ('Node' in op) {
    const { Verb, Node } = op.Node;
    const existing = tx.db.nodes.get(lower(Node.Node));
    return catalogOp('Node', Verb, existing, Node.ModifyIndex, `node "${Node.Node}"`, {
      set: () => ({ Node: ensureNode(tx, stripIndex(Node)) }),
      delete: () => deleteNode(tx, Node.Node),
      wrap: (row) => ({ Node: row }),
    });
  }
  if ('Service' in op) {
    const { Verb, Node, Service } = op.Service;
    const existing = tx.db.services.get(serviceKey(Node, Service.ID));
    const what = `service "${Service.ID}" on node "${Node}"`;
    return catalogOp('Service', Verb, existing, Service.ModifyIndex, what, {
      set: () => ({ Service: ensureService(tx, Node, stripIndex(Service)) }),
      delete: () => deleteService(tx, Node, Service.ID),
      wrap: (row) => ({ Service: row }),
    });
  }
  const { Verb, Check } = op.Check;
  const existing = tx.db.checks.get(checkKey(Check.Node, Check.CheckID));
  const what = `check "${Check.CheckID}" on node "${Check.Node}"`;
  return catalogOp('Check', Verb, existing, Check.ModifyIndex, what, {
    set: () => ({ Check: ensureCheck(tx, stripIndex(Check)) }),
    delete: () => deleteCheck(tx, Check.Node, Check.CheckID),
    wrap: (row) => ({ Check: row }),
  });
}

interface CatalogActions<R> {
  set(): TxnResult;
  delete(): void;
  wrap(row: R): TxnResult;
}

/** The five catalog verbs share their rules across nodes, services and checks. */
function catalogOp<R extends RaftIndexes>(
  kind: 'Node' | 'Service' | 'Check',
  verb: CatalogVerb,
  existing: R | undefined,
  casIndex: number | undefined,
  what: string,
  actions: CatalogActions<R>,
): TxnResult[] {
  const stale = (existing?.ModifyIndex ?? 0) !== (casIndex ?? 0);
  switch (verb) {
    case 'get':
      if (!existing) throw new StateError(`${what} doesn't exist`);
      return [actions.wrap(existing)];
    case 'cas':
      if (stale) throw new StateError(`failed to set ${what}, index is stale`);
      return [actions.set()];
    case 'set':
      return [actions.set()];
    case 'delete-cas':
      if (stale) throw new StateError(`failed to delete ${what}, index is stale`);
      actions.delete();
      return [];
    case 'delete':
      actions.delete();
      return [];
    default:
      throw new StateError(`unknown ${kind} verb "${verb}"`);
  }
}

function kvOp(tx: WriteTx, op: KVOp): TxnResult[] {
  const existing = tx.db.kvs.get(op.Key);
  switch (op.Verb) {
    case 'get':
      if (!existing) throw new StateError(`key "${op.Key}" doesn't exist`);
      return [{ KV: existing }];
    case 'get-tree':
      return [...tx.db.kvs.prefix(op.Key)].map((row) => ({ KV: row }));
    case 'check-index':
      if (!existing) throw new StateError(`key "${op.Key}" doesn't exist`);
      if (existing.ModifyIndex !== op.Index) {
        throw new StateError(`current modify index ${existing.ModifyIndex} != ${op.Index}`);
      }
      return [{ KV: existing }];
    case 'check-session':
      if (!existing) throw new StateError(`key "${op.Key}" doesn't exist`);
      if (existing.Session !== op.Session) {
        throw new StateError(
          `failed session check for key "${op.Key}", current session "${existing.Session}" != "${op.Session}"`,
        );
      }
      return [{ KV: existing }];
    case 'check-not-exists':
      if (existing) throw new StateError(`key "${op.Key}" exists`);
      return [];
    case 'set':
    case 'cas':
    case 'lock':
    case 'unlock':
    case 'delete':
    case 'delete-cas':
    case 'delete-tree':
      return kvWrite(tx, op);
    default:
      throw new StateError(`unknown KV verb "${op.Verb}"`);
  }
}

const KV_FAILURES: Record<string, string> = {
  cas: 'failed to set key "%s", index is stale',
  lock: 'failed to lock key "%s", lock is already held',
  unlock: `failed to unlock key "%s", lock isn't held, or is held by another session`,
  'delete-cas': 'failed to delete key "%s", index is stale',
};

function kvWrite(tx: WriteTx, op: KVOp): TxnResult[] {
  if (!applyKVWrite(tx, op))
    throw new StateError((KV_FAILURES[op.Verb] ?? 'failed %s').replace('%s', op.Key));
  const written = tx.db.kvs.get(op.Key);
  // Consul answers writes without the value, to keep results small.
  return written && !op.Verb.startsWith('delete') ? [{ KV: { ...written, Value: null } }] : [];
}

function stripIndex<T extends { ModifyIndex?: number }>(row: T): Omit<T, 'ModifyIndex'> {
  const { ModifyIndex: _ignored, ...rest } = row;
  return rest;
}
