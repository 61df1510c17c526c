import type { Logger } from 'pino';
import type { AgentConfig } from '../agent/config.ts';
import type { SessionTimers } from '../leader/session-timers.ts';
import type { LocalAgent } from '../local/local-agent.ts';
import type { Applier } from '../state/applier.ts';
import type { StateStore } from '../state/store.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export type Consistency = 'default' | 'consistent' | 'stale';

export interface LeaderContact {
  knownLeader: boolean;
  /** Milliseconds since this server last heard from the leader (0 on the leader). */
  lastContactMs: number;
}

/** Decides when a read may be answered here: under the leader's lease, after a quorum check, or stale. */
export interface ReadGate {
  prepare(mode: Consistency): Promise<LeaderContact>;
}

/** The server's view of its Raft cluster, for /v1/status. */
export interface ClusterView {
  leaderAddress(): string;
  peerAddresses(): string[];
}

/** A member of the agent's gossip pool, as /v1/agent/members shows it. */
export interface Member {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  Status: number;
  ProtocolMin: number;
  ProtocolMax: number;
  ProtocolCur: number;
  DelegateMin: number;
  DelegateMax: number;
  DelegateCur: number;
}

export interface AgentRuntime {
  config: AgentConfig;
  nodeId: string;
  version: string;
  startedAt: Date;
  local: LocalAgent;
  members(): Member[];
  /** Leaves the cluster and shuts the agent down (after the HTTP answer is sent). */
  leave(): void;
  reload(): Promise<void>;
  /** After a snapshot restore: re-arm leader timers and register this agent's own node and services again. */
  afterRestore(): Promise<void>;
}

export interface HttpContext {
  store: StateStore;
  applier: Applier;
  reads: ReadGate;
  cluster: ClusterView;
  agent: AgentRuntime;
  sessionTimers: SessionTimers;
  metrics: Metrics;
  log: Logger;
}
