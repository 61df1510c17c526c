import type { Command, TxnOp } from './commands.ts';
import { applyCommand, type CommandResult, rolledBackTxn, type TxnOutcome } from './fsm.ts';
import { StateDB } from './schema.ts';
import { encodeSnapshot, restoreSnapshot } from './snapshot.ts';
import { runTxn } from './txn.ts';
import { WatchRegistry } from './watch.ts';

export type ApplyOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * The replicated state machine: tables plus the watch registry that wakes blocking reads. `apply` is the FSM
 * entry point for committed log entries; reads go straight to `db` through the functions in *-read.ts.
 */
export class StateStore {
  readonly db = new StateDB();
  readonly watches = new WatchRegistry();
  private applied = 0;

  /** Index of the last applied log entry. */
  get lastIndex(): number {
    return this.applied;
  }

  /**
   * Applies one committed entry. It never throws: a command the state refuses is an outcome every replica
   * computes identically, and it leaves the state untouched.
   */
  apply<C extends Command>(index: number, cmd: C): ApplyOutcome<CommandResult<C>> {
    this.applied = index;
    try {
      const { result, touched } = this.db.journal.run(() =>
        applyCommand({ db: this.db, index, now: cmd.now }, cmd),
      );
      this.watches.fire(touched);
      return { ok: true, value: result as CommandResult<C> };
    } catch (err) {
      const txn = rolledBackTxn(err);
      if (txn) return { ok: true, value: txn as CommandResult<C> };
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Runs a transaction made only of reads, without the log (as Consul does for read-only txns). */
  readTxn(ops: TxnOp[]): TxnOutcome {
    try {
      return { results: runTxn({ db: this.db, index: this.applied, now: Date.now() }, ops), errors: null };
    } catch (err) {
      const txn = rolledBackTxn(err);
      if (txn) return txn;
      throw err;
    }
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.db, this.applied);
  }

  /** Replaces the whole state; every blocked read wakes, since its index may now have gone backwards. */
  restore(bytes: Uint8Array): void {
    this.applied = restoreSnapshot(this.db, bytes);
    this.watches.fireAll();
  }
}
