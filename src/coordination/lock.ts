import type { ApiClient } from '../api/client.ts';
import { Kv } from '../api/kv.ts';
import { sleep } from '../util/sleep.ts';
import { type HoldOptions, SessionHold, unlessStopped } from './session-hold.ts';
import { WaitBudget } from './wait-budget.ts';

// Consul's api.Lock, the client side of leader election: a session acquires one key, flagged so a semaphore
// at the same key is detected. Waiting is a blocking read until the key is free; an acquire refused while
// the key is free means a lock-delay is running, so it is retried after a pause. Once held, a monitor on the
// key reports the loss.

/** The flag Consul's locks put on their key (api.LockFlagValue). */
export const LOCK_FLAG_VALUE = 0x2ddccbc058a50c18n;

const DEFAULT_LOCK_SESSION_NAME = 'Consul API Lock';
const DEFAULT_LOCK_SESSION_TTL = '15s';
const DEFAULT_LOCK_WAIT_MS = 15_000;
/** How long to wait after an acquire refused during a lock-delay, so it is not retried in a hot loop. */
const LOCK_RETRY_MS = 5_000;

export class LockError extends Error {}
const errors = {
  held: () => new LockError('Lock already held'),
  notHeld: () => new LockError('Lock not held'),
};
/** Returned by destroy() while someone holds the lock: callers may treat it as "nothing to clean up". */
export const LOCK_IN_USE = 'Lock in use';

export interface LockOptions extends HoldOptions {
  key: string;
  value?: Uint8Array;
  /** How long each blocking read waits for the key to be free; with `tryOnce`, the whole attempt. */
  lockWaitTimeMs?: number;
}

export class Lock extends SessionHold {
  private readonly kv: Kv;

  constructor(
    client: ApiClient,
    private readonly options: LockOptions,
  ) {
    super(
      client,
      options,
      {
        Name: options.sessionName ?? DEFAULT_LOCK_SESSION_NAME,
        TTL: options.sessionTtl ?? DEFAULT_LOCK_SESSION_TTL,
      },
      errors,
    );
    if (options.key === '') throw new LockError('missing key');
    this.kv = new Kv(client);
  }

  /** Gives the lock up (and destroys the session it made). */
  async release(): Promise<void> {
    await this.end(async (session) => {
      try {
        await this.kv.put(this.options.key, this.value(), { flags: LOCK_FLAG_VALUE, release: session });
      } catch (err) {
        throw new LockError(`failed to release lock: ${(err as Error).message}`);
      }
    });
  }

  /** Deletes the lock's key once nobody holds it; a LockError `Lock in use` otherwise. */
  async destroy(): Promise<void> {
    if (this.isHeld) throw errors.held();
    const pair = await this.kv.get(this.options.key).catch((err: Error) => {
      throw new LockError(`failed to read lock: ${err.message}`);
    });
    if (pair === undefined) return;
    if (pair.Flags !== LOCK_FLAG_VALUE) throw conflict();
    if (pair.Session) throw new LockError(LOCK_IN_USE);
    const removed = await this.kv
      .delete(this.options.key, { cas: BigInt(pair.ModifyIndex) })
      .catch((err: Error) => {
        throw new LockError(`failed to remove lock: ${err.message}`);
      });
    if (!removed) throw new LockError(LOCK_IN_USE);
  }

  /** The loop of Consul's Lock(). */
  protected async attempt(stop: AbortSignal): Promise<boolean> {
    const { key } = this.options;
    const budget = new WaitBudget(
      this.options.lockWaitTimeMs ?? DEFAULT_LOCK_WAIT_MS,
      !!this.options.tryOnce,
    );
    const read = (index: bigint, wait?: string) =>
      unlessStopped(
        this.kv.read(key, { index, wait, signal: stop }),
        stop,
        (m) => new LockError(`failed to read lock: ${m}`),
      );
    let index = 0n;
    for (;;) {
      const wait = budget.next();
      if (stop.aborted || wait === undefined) return false;
      const current = await read(index, wait);
      if (current === undefined) return false;
      if (current.pair && current.pair.Flags !== LOCK_FLAG_VALUE) throw conflict();
      if (current.pair?.Session === this.session) return true;
      if (current.pair?.Session) {
        index = current.index;
        continue;
      }
      const locked = await this.kv
        .put(key, this.value(), { flags: LOCK_FLAG_VALUE, acquire: this.session })
        .catch((err: Error) => {
          throw new LockError(`failed to acquire lock: ${err.message}`);
        });
      if (locked) return true;
      // Refused: someone took it first (wait for them), or a lock-delay runs while it is free (pause).
      const after = await read(0n);
      if (after === undefined) return false;
      index = after.pair?.Session ? after.index : 0n;
      if (!after.pair?.Session && !(await sleep(LOCK_RETRY_MS, stop))) return false;
    }
  }

  protected async check(session: string, index: bigint, signal: AbortSignal) {
    const read = await this.kv.read(this.options.key, { index, consistent: true, signal });
    return { held: read.pair?.Session === session, index: read.index };
  }

  private value(): Uint8Array {
    return this.options.value ?? new Uint8Array();
  }
}

function conflict(): LockError {
  return new LockError('Existing key does not match lock use');
}
