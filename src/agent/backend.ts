import type { ClusterView, ReadGate, SessionRenewal } from '../http/context.ts';
import type { SessionTimers } from '../leader/session-timers.ts';
import type { Applier } from '../state/applier.ts';

/**
 * How an agent's server side reaches agreement: the dev agent's single in-memory log, or a Raft server. The
 * agent builds everything else (HTTP, local services, leader duties) on this.
 */
export interface ConsensusBackend {
  readonly applier: Applier;
  readonly reads: ReadGate;
  readonly cluster: ClusterView;
  /** Renewals go to the leader's timers, wherever the request arrived. */
  sessionRenewal(timers: SessionTimers): SessionRenewal;
  /** Calls `listener(true)` when this server starts leading and `listener(false)` when it stops. */
  onLeadership(listener: (leading: boolean) => void): void;
  /** Answers an RPC method on the server RPC port (servers only; others have no RPC listener). */
  serve(method: string, handler: (body: unknown) => Promise<unknown>): void;
  start(): Promise<void>;
  /** A graceful leave: give up leadership and membership before stopping. */
  leave(): Promise<void>;
  stop(): Promise<void>;
}
