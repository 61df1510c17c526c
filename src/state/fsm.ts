import { deleteCheck, deleteNode, deleteService, register } from './catalog-write.ts';
import type { Command } from './commands.ts';
import { StateError } from './errors.ts';
import { applyKVWrite, reapTombstones } from './kv-write.ts';
import { deleteQuery, setQuery } from './query-write.ts';
import type { WriteTx } from './schema.ts';
import { createSession, destroySession } from './session-write.ts';
import { runTxn, type TxnError, type TxnResult, TxnRollback } from './txn.ts';

// The state machine's apply: one command, one write transaction. What each command answers its proposer:

export interface TxnOutcome {
  results: TxnResult[] | null;
  errors: TxnError[] | null;
}

export interface CommandResults {
  register: true;
  deregister: true;
  kv: boolean;
  'session-create': string;
  'session-destroy': true;
  txn: TxnOutcome;
  'tombstone-reap': true;
  'query-set': string;
  'query-delete': true;
}

export type CommandResult<C extends Command> = CommandResults[C['type']];

export function applyCommand(tx: WriteTx, cmd: Command): CommandResults[Command['type']] {
  switch (cmd.type) {
    case 'register':
      register(tx, cmd);
      return true;
    case 'deregister':
      if (cmd.checkId !== null) deleteCheck(tx, cmd.node, cmd.checkId);
      else if (cmd.serviceId !== null) deleteService(tx, cmd.node, cmd.serviceId);
      else deleteNode(tx, cmd.node);
      return true;
    case 'kv':
      return applyKVWrite(tx, cmd.op);
    case 'session-create':
      return createSession(tx, cmd.session).ID;
    case 'session-destroy':
      destroySession(tx, cmd.id);
      return true;
    case 'txn':
      return { results: runTxn(tx, cmd.ops), errors: null };
    case 'tombstone-reap':
      reapTombstones(tx, cmd.reapIndex);
      return true;
    case 'query-set':
      return setQuery(tx, cmd.query);
    case 'query-delete':
      deleteQuery(tx, cmd.id);
      return true;
    default:
      throw new StateError(`unknown command ${JSON.stringify((cmd as { type?: unknown }).type)}`);
  }
}

/** A txn whose ops failed is not an error of the command: it answers its errors (HTTP 409). */
export function rolledBackTxn(err: unknown): TxnOutcome | undefined {
  return err instanceof TxnRollback ? { results: null, errors: err.errors } : undefined;
}
