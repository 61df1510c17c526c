import type { ApiClient } from '../api/client.ts';
import { joinKey, Kv, type KvPair } from '../api/kv.ts';
import { type HoldOptions, SessionHold, unlessStopped } from './session-hold.ts';
import { WaitBudget } from './wait-budget.ts';

// Consul's api.Semaphore: up to Limit holders under one prefix. Each contender writes `<prefix>/<session>`
// with its session (a delete-behavior session, so the key goes with it), and `<prefix>/.lock` holds
// {"Limit":N,"Holders":{"<session>":true,...}}, changed only by check-and-set. Holders whose contender key
// is gone are pruned by whoever reads the record next.

/** The flag Consul's semaphores put on their keys (api.SemaphoreFlagValue). */
export const SEMAPHORE_FLAG_VALUE = 0xe0f69a2baa414de0n;
/** The coordination key within the prefix; Consul's lock command uses the same key, so the two conflict. */
export const SEMAPHORE_KEY = '.lock';

const DEFAULT_SEMAPHORE_SESSION_NAME = 'Consul API Semaphore';
const DEFAULT_SEMAPHORE_SESSION_TTL = '15s';
const DEFAULT_SEMAPHORE_WAIT_MS = 15_000;

export class SemaphoreError extends Error {}
const errors = {
  held: () => new SemaphoreError('Semaphore already held'),
  notHeld: () => new SemaphoreError('Semaphore not held'),
};
/** Returned by destroy() while the semaphore has holders. */
export const SEMAPHORE_IN_USE = 'Semaphore in use';

export interface SemaphoreOptions extends HoldOptions {
  prefix: string;
  limit: number;
  /** The contender key's value. */
  value?: Uint8Array;
  /** How long each blocking read waits for a free slot; with `tryOnce`, the whole attempt. */
  semaphoreWaitTimeMs?: number;
}

/** The coordination record, as Go's json.Marshal writes a semaphoreLock. */
interface SemaphoreRecord {
  Limit: number;
  Holders: Record<string, boolean>;
}

export class Semaphore extends SessionHold {
  private readonly kv: Kv;
  private readonly lockKey: string;

  constructor(
    client: ApiClient,
    private readonly options: SemaphoreOptions,
  ) {
    super(
      client,
      options,
      {
        Name: options.sessionName ?? DEFAULT_SEMAPHORE_SESSION_NAME,
        TTL: options.sessionTtl ?? DEFAULT_SEMAPHORE_SESSION_TTL,
        Behavior: 'delete',
      },
      errors,
    );
    if (options.prefix === '') throw new SemaphoreError('missing prefix');
    if (options.limit <= 0) throw new SemaphoreError('semaphore limit must be positive');
    this.kv = new Kv(client);
    this.lockKey = joinKey(options.prefix, SEMAPHORE_KEY);
  }

  /** Gives the slot up: leaves the holders (check-and-set, retried on races), deletes the contender key. */
  async release(): Promise<void> {
    await this.end(async (session) => {
      for (;;) {
        const pair = await this.kv.get(this.lockKey);
        const record = this.decode(pair);
        if (!record.Holders[session]) break;
        delete record.Holders[session];
        if (await this.writeRecord(record, pair)) break;
      }
      await this.kv.delete(joinKey(this.options.prefix, session));
    });
  }

  /** Deletes the coordination key once no live holder is left; a SemaphoreError `Semaphore in use` otherwise. */
  async destroy(): Promise<void> {
    if (this.isHeld) throw errors.held();
    const pairs = await this.kv.list(this.options.prefix).catch((err: Error) => {
      throw new SemaphoreError(`failed to read prefix: ${err.message}`);
    });
    const pair = pairs.find((p) => p.Key === this.lockKey);
    if (pair === undefined) return;
    if (pair.Flags !== SEMAPHORE_FLAG_VALUE) throw conflict();
    const record = this.decode(pair);
    prune(record, pairs);
    if (Object.keys(record.Holders).length > 0) throw new SemaphoreError(SEMAPHORE_IN_USE);
    const removed = await this.kv
      .delete(this.lockKey, { cas: BigInt(pair.ModifyIndex) })
      .catch((err: Error) => {
        throw new SemaphoreError(`failed to remove semaphore: ${err.message}`);
      });
    if (!removed) throw new SemaphoreError(SEMAPHORE_IN_USE);
  }

  /** The loop of Consul's Acquire(): the contender key, then a slot in the record. */
  protected async attempt(stop: AbortSignal): Promise<boolean> {
    const contender = joinKey(this.options.prefix, this.session);
    const made = await this.kv
      .put(contender, this.options.value ?? new Uint8Array(), {
        flags: SEMAPHORE_FLAG_VALUE,
        acquire: this.session,
      })
      .catch((err: Error) => {
        throw new SemaphoreError(`failed to make contender entry: ${err.message}`);
      });
    if (!made) throw new SemaphoreError('failed to make contender entry: <nil>');

    const waitMs = this.options.semaphoreWaitTimeMs ?? DEFAULT_SEMAPHORE_WAIT_MS;
    const budget = new WaitBudget(waitMs, !!this.options.tryOnce);
    let index = 0n;
    for (;;) {
      const wait = budget.next();
      if (stop.aborted || wait === undefined) return false;
      const read = await unlessStopped(
        this.kv.readPrefix(this.options.prefix, { index, wait, signal: stop }),
        stop,
        (m) => new SemaphoreError(`failed to read prefix: ${m}`),
      );
      if (read === undefined) return false;
      const pair = read.pairs.find((p) => p.Key === this.lockKey);
      if (pair && pair.Flags !== SEMAPHORE_FLAG_VALUE) throw conflict();
      const record = this.decode(pair);
      if (record.Limit !== this.options.limit) {
        throw new SemaphoreError(
          `semaphore limit conflict (lock: ${record.Limit}, local: ${this.options.limit})`,
        );
      }
      prune(record, read.pairs);
      if (Object.keys(record.Holders).length >= record.Limit) {
        index = read.index;
        continue;
      }
      record.Holders[this.session] = true;
      // A lost race with another contender just means reading again.
      if (await this.writeRecord(record, pair)) return true;
    }
  }

  protected async check(session: string, index: bigint, signal: AbortSignal) {
    const read = await this.kv.readPrefix(this.options.prefix, { index, consistent: true, signal });
    const record = this.decode(read.pairs.find((p) => p.Key === this.lockKey));
    prune(record, read.pairs);
    return { held: record.Holders[session] === true, index: read.index };
  }

  /** Check-and-set of the record against the pair it was read from (0: only if there is none yet). */
  private async writeRecord(record: SemaphoreRecord, pair: KvPair | undefined): Promise<boolean> {
    const holders = Object.fromEntries(
      Object.keys(record.Holders)
        .sort()
        .map((id) => [id, true]),
    );
    const value = Buffer.from(JSON.stringify({ Limit: record.Limit, Holders: holders }));
    const cas = BigInt(pair?.ModifyIndex ?? 0);
    return this.kv.put(this.lockKey, value, { flags: SEMAPHORE_FLAG_VALUE, cas }).catch((err: Error) => {
      throw new SemaphoreError(`failed to update lock: ${err.message}`);
    });
  }

  /** The record in `pair`, or a fresh one with our limit when there is none yet. */
  private decode(pair: KvPair | undefined): SemaphoreRecord {
    if (pair === undefined || pair.Value.length === 0) return { Limit: this.options.limit, Holders: {} };
    try {
      const parsed = JSON.parse(pair.Value.toString('utf8')) as Partial<SemaphoreRecord>;
      return { Limit: Number(parsed.Limit ?? 0), Holders: { ...(parsed.Holders ?? {}) } };
    } catch (err) {
      throw new SemaphoreError(`lock decoding failed: ${(err as Error).message}`);
    }
  }
}

function conflict(): SemaphoreError {
  return new SemaphoreError('Existing key does not match semaphore use');
}

/** Drops holders whose session holds no key under the prefix any more (their contender key is gone). */
function prune(record: SemaphoreRecord, pairs: KvPair[]): void {
  const alive = new Set(pairs.map((pair) => pair.Session).filter(Boolean));
  for (const holder of Object.keys(record.Holders)) if (!alive.has(holder)) delete record.Holders[holder];
}
