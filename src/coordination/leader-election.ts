import type { ApiClient } from '../api/client.ts';
import { Kv } from '../api/kv.ts';
import { Lock } from './lock.ts';

// Leader election as Consul's guide describes it: candidates contend for a lock on one key with sessions of
// their own; the holder leads and writes its identity as the key's value, so anyone can read who leads. The
// session is renewed while leading; the returned signal reports the loss of leadership.

export interface ElectionOptions {
  /** The key candidates contend for, such as `service/<name>/leader`. */
  key: string;
  /** What this candidate writes while it leads (a node name, an address). */
  identity: string;
  /** The session's TTL: how long a leader that vanished without a word keeps the key (default 15s). */
  sessionTtl?: string;
  /** How many 500s (an election among the servers) to ride out before giving leadership up. */
  monitorRetries?: number;
}

export class LeaderElection {
  private readonly lock: Lock;
  private readonly kv: Kv;

  constructor(
    client: ApiClient,
    private readonly options: ElectionOptions,
  ) {
    this.kv = new Kv(client);
    this.lock = new Lock(client, {
      key: options.key,
      value: Buffer.from(options.identity),
      sessionName: `Leader election for ${options.key}`,
      ...(options.sessionTtl ? { sessionTtl: options.sessionTtl } : {}),
      monitorRetries: options.monitorRetries ?? 3,
    });
  }

  /**
   * Blocks until this candidate leads, then resolves with a signal that aborts when leadership is lost or
   * given up. Undefined when `stop` aborted first.
   */
  campaign(stop?: AbortSignal): Promise<AbortSignal | undefined> {
    return this.lock.acquire(stop);
  }

  /**
   * Steps down, so another candidate can lead at once (a released key has no lock-delay). Call it after a
   * loss too: it stops renewing the session.
   */
  resign(): Promise<void> {
    return this.lock.release();
  }

  /** The current leader's identity, or undefined while nobody leads. */
  async leader(): Promise<string | undefined> {
    const pair = await this.kv.get(this.options.key);
    return pair?.Session ? pair.Value.toString('utf8') : undefined;
  }
}
