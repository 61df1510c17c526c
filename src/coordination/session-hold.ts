import type { ApiClient } from '../api/client.ts';
import type { SessionEntry } from '../api/session.ts';
import { type HoldCheck, monitorHold } from './monitor.ts';
import { SessionKeeper } from './session-keeper.ts';

// What Consul's Lock and Semaphore share: a session of their own unless given one (created before trying,
// destroyed when the attempt fails or the hold ends), the attempt itself, and once held, a monitor whose
// signal reports the loss. Subclasses say how to try and how to tell they still hold.

export interface HoldOptions {
  /** An existing session to hold with; when absent one is created and renewed. */
  session?: string;
  sessionName?: string;
  sessionTtl?: string;
  /** How many 500s the monitor rides out before declaring the hold lost (default 0). */
  monitorRetries?: number;
  monitorRetryTimeMs?: number;
  /** With `tryOnce`, the whole acquisition's time; otherwise how long each blocking read waits. */
  tryOnce?: boolean;
}

export const DEFAULT_MONITOR_RETRY_MS = 2_000;

export interface HoldErrors {
  held(): Error;
  notHeld(): Error;
}

export abstract class SessionHold {
  protected session = '';
  private held = false;
  private keeper: SessionKeeper | undefined;
  private stopMonitor: AbortController | undefined;

  protected constructor(
    protected readonly client: ApiClient,
    private readonly holdOptions: HoldOptions,
    private readonly ownSession: SessionEntry,
    private readonly errors: HoldErrors,
  ) {}

  /**
   * Blocks until held, then returns a signal that aborts when the hold is lost (session invalidated, key
   * taken or deleted, Consul unreachable) or released. Undefined when `stop` aborted first or a one-shot
   * attempt ran out of time.
   */
  async acquire(stop: AbortSignal = new AbortController().signal): Promise<AbortSignal | undefined> {
    if (this.held) throw this.errors.held();
    this.session = this.holdOptions.session ?? '';
    if (this.session === '') {
      this.keeper = await SessionKeeper.start(this.client, this.ownSession);
      this.session = this.keeper.id;
    }
    let acquired: boolean;
    try {
      acquired = await this.attempt(stop);
    } catch (err) {
      await this.dropSession();
      throw err;
    }
    if (!acquired) {
      await this.dropSession();
      return undefined;
    }
    this.held = true;
    this.stopMonitor = new AbortController();
    const session = this.session;
    return monitorHold(
      (index, signal) => this.check(session, index, signal),
      {
        retries: this.holdOptions.monitorRetries ?? 0,
        retryTimeMs: this.holdOptions.monitorRetryTimeMs ?? DEFAULT_MONITOR_RETRY_MS,
      },
      this.stopMonitor.signal,
    );
  }

  /** Ends the hold: `letGo` frees the keys, then the session this made is destroyed. */
  protected async end(letGo: (session: string) => Promise<void>): Promise<void> {
    if (!this.held) throw this.errors.notHeld();
    this.held = false;
    this.stopMonitor?.abort();
    try {
      await letGo(this.session);
    } finally {
      await this.dropSession();
    }
  }

  protected get isHeld(): boolean {
    return this.held;
  }

  /** Waits and tries until held (true), or until stopped or out of time (false). */
  protected abstract attempt(stop: AbortSignal): Promise<boolean>;

  /** One consistent read for the monitor. */
  protected abstract check(session: string, ...args: Parameters<HoldCheck>): ReturnType<HoldCheck>;

  private async dropSession(): Promise<void> {
    await this.keeper?.stop();
    this.keeper = undefined;
  }
}

/** A read while trying to acquire: undefined when `stop` cancelled it, other failures worded by `wrap`. */
export async function unlessStopped<T>(
  read: Promise<T>,
  stop: AbortSignal,
  wrap: (message: string) => Error,
): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (stop.aborted) return undefined;
    throw wrap((err as Error).message);
  }
}
