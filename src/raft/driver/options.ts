import type { Logger } from 'pino';
import type { RpcPool } from '../../rpc/pool.ts';
import type { RpcServer } from '../../rpc/server.ts';
import type { StateStore } from '../../state/store.ts';
import type { RaftOptions } from '../core/config.ts';
import type { Random } from '../core/prng.ts';
import type { NodeId } from '../core/types.ts';

/** Wall-clock timings; the core counts in ticks, so each is turned into a whole number of ticks. */
export interface RaftTiming {
  tickMs: number;
  heartbeatMs: number;
  /** The election timeout is drawn from [electionMinMs, electionMaxMs). */
  electionMinMs: number;
  electionMaxMs: number;
}

/** The seed's timings (Consul's LAN defaults scaled down the way Tribune runs them). */
export const DEFAULT_TIMING: Readonly<RaftTiming> = {
  tickMs: 10,
  heartbeatMs: 50,
  electionMinMs: 150,
  electionMaxMs: 300,
};

export interface RaftServerOptions {
  /** This server's node ID. */
  id: NodeId;
  /** Where peers reach this server's RPC listener, "host:port". */
  address: string;
  /** The agent's data dir; Raft keeps its log and snapshots under `<dataDir>/raft`. */
  dataDir: string;
  /** The state machine. It must be empty: the server restores it from the latest snapshot on start. */
  store: StateStore;
  /** Raft's handlers are registered here (one RaftServer per RpcServer; the caller listens and closes it). */
  rpcServer: RpcServer;
  /** Outgoing calls to peers; owned by the caller. */
  pool: RpcPool;
  logger: Logger;
  timing?: Partial<RaftTiming>;
  /** Snapshot once this many entries were applied since the last snapshot (Consul: 16384). */
  snapshotThreshold?: number;
  /** Entries kept in the log behind a snapshot, so a follower that lags a little avoids a snapshot (Consul: 10240). */
  trailingLogs?: number;
  /** How long a snapshot may take to stream to a follower. */
  snapshotTimeoutMs?: number;
  /** How long a membership change waits for an earlier one to commit, and then for itself to commit. */
  membershipTimeoutMs?: number;
  /** Randomness for election timeouts; seeded in tests. */
  random?: Random;
}

export interface ResolvedOptions extends Required<Omit<RaftServerOptions, 'random' | 'timing'>> {
  timing: RaftTiming;
  random: Random | undefined;
}

export function resolveServerOptions(options: RaftServerOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    snapshotThreshold: 16384,
    trailingLogs: 10240,
    snapshotTimeoutMs: 5 * 60_000,
    membershipTimeoutMs: 10_000,
    ...options,
    timing: { ...DEFAULT_TIMING, ...options.timing },
    random: options.random,
  };
  for (const name of ['snapshotThreshold', 'snapshotTimeoutMs', 'membershipTimeoutMs'] as const) {
    if (!Number.isSafeInteger(resolved[name]) || resolved[name] < 1) {
      throw new Error(`raft: ${name} must be a positive integer`);
    }
  }
  if (!Number.isSafeInteger(resolved.trailingLogs) || resolved.trailingLogs < 0) {
    throw new Error('raft: trailingLogs must be a non-negative integer');
  }
  return resolved;
}

/** The core's options for `timing`: whole ticks, and a lease two thirds of the election timeout. */
export function coreOptions(timing: RaftTiming): Partial<RaftOptions> {
  const { tickMs, heartbeatMs, electionMinMs, electionMaxMs } = timing;
  if (!(tickMs > 0)) throw new Error('raft: tickMs must be positive');
  const ticks = (ms: number) => Math.max(1, Math.round(ms / tickMs));
  const electionTicks = ticks(electionMinMs);
  return {
    heartbeatTicks: ticks(heartbeatMs),
    electionTicks,
    electionMaxTicks: ticks(electionMaxMs),
    // The lease must end before followers stop refusing votes (electionTicks after the leader's contact);
    // the margin absorbs clock drift and tick jitter between servers.
    leaseTicks: Math.max(1, Math.floor((electionTicks * 2) / 3)),
  };
}
