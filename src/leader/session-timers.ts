import type { Logger } from 'pino';
import type { Applier } from '../state/applier.ts';
import { tableWatchKey } from '../state/schema.ts';
import type { StateStore } from '../state/store.ts';
import type { SessionRow } from '../state/types.ts';
import { WatchSet } from '../state/watch.ts';
import { parseDuration } from '../util/duration.ts';

/** Consul destroys a TTL session only after twice its TTL without a renewal. */
export const SESSION_TTL_MULTIPLIER = 2;
/** The timers follow the sessions table by its watch; this only bounds how long one wait lasts. */
const RECONCILE_INTERVAL_MS = 60_000;

/**
 * The leader's session TTL timers. Renewals only touch these timers (they are not log writes, as in Consul);
 * expiry proposes a session-destroy, so every replica invalidates the session at the same log position.
 * While leading, the timers follow the sessions table: a new TTL session gets a full TTL, a destroyed one
 * loses its timer, and a newly elected leader starts every TTL afresh, as Consul's leader does.
 */
export class SessionTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private following: AbortController | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly applier: Applier,
    private readonly log: Logger,
  ) {}

  /** Starts keeping timers for the sessions in the state, as a newly elected leader must. */
  start(): void {
    if (this.following) return;
    this.following = new AbortController();
    void this.follow(this.following.signal);
  }

  private async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const ws = new WatchSet();
      ws.add(tableWatchKey('sessions'));
      this.reconcile();
      await this.store.watches.wait(ws, RECONCILE_INTERVAL_MS, signal);
    }
  }

  /** Arms a timer for each TTL session that has none; drops the timers of sessions that are gone. */
  private reconcile(): void {
    const sessions = this.store.db.sessions;
    for (const id of this.timers.keys()) if (!sessions.get(id)) this.clear(id);
    for (const session of sessions.values()) if (!this.timers.has(session.ID)) this.arm(session);
  }

  /** Starts (or restarts) the TTL of a session; sessions without a TTL have no timer. */
  private arm(session: SessionRow): void {
    this.clear(session.ID);
    if (!session.TTL) return;
    const ms = (parseDuration(session.TTL) / 1e6) * SESSION_TTL_MULTIPLIER;
    const timer = setTimeout(() => this.expire(session.ID), ms);
    timer.unref();
    this.timers.set(session.ID, timer);
  }

  /** Renews a session's TTL; returns the session, or undefined when it does not exist. */
  renew(id: string): SessionRow | undefined {
    const session = this.store.db.sessions.get(id);
    if (session) this.arm(session);
    return session;
  }

  private clear(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  /** Stops and forgets every timer, as a server that stops leading must. */
  stop(): void {
    this.following?.abort();
    this.following = undefined;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  get active(): number {
    return this.timers.size;
  }

  private expire(id: string): void {
    this.timers.delete(id);
    this.log.debug({ session: id }, 'session TTL expired');
    this.applier.apply({ type: 'session-destroy', now: Date.now(), id }).catch((err) => {
      this.log.warn({ err, session: id }, 'failed to destroy expired session');
      // Still leading: try again after another TTL rather than let the session live on.
      const session = this.store.db.sessions.get(id);
      if (session && this.following) this.arm(session);
    });
  }
}
