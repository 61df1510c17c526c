import type { Logger } from 'pino';
import type { Applier } from '../state/applier.ts';
import type { StateStore } from '../state/store.ts';
import type { SessionRow } from '../state/types.ts';
import { parseDuration } from '../util/duration.ts';

/** Consul destroys a TTL session only after twice its TTL without a renewal. */
export const SESSION_TTL_MULTIPLIER = 2;

/**
 * The leader's session TTL timers. Renewals only touch these timers (they are not log writes, as in Consul);
 * expiry proposes a session-destroy, so every replica invalidates the session at the same log position.
 */
export class SessionTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: StateStore,
    private readonly applier: Applier,
    private readonly log: Logger,
  ) {}

  /** Arms a timer for every TTL session in the state, as a newly elected leader must. */
  start(): void {
    for (const session of this.store.db.sessions.values()) this.arm(session);
  }

  /** Starts (or restarts) the TTL of a session; sessions without a TTL have no timer. */
  arm(session: SessionRow): void {
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

  clear(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  get active(): number {
    return this.timers.size;
  }

  private expire(id: string): void {
    this.timers.delete(id);
    this.log.debug({ session: id }, 'session TTL expired');
    this.applier
      .apply({ type: 'session-destroy', now: Date.now(), id })
      .catch((err) => this.log.warn({ err, session: id }, 'failed to destroy expired session'));
  }
}
