import type { Logger } from 'pino';
import type { AgentConfig } from '../agent/config.ts';
import type { EventBuffer, UserEvent } from '../agent/user-events.ts';
import type { LocalAgent } from '../local/local-agent.ts';
import type { Applier } from '../state/applier.ts';
import type { StateStore } from '../state/store.ts';
import type { SessionRow } from '../state/types.ts';
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

/** One server of the Raft configuration, with what the leader knows of its replication. */
export interface RaftPeer {
  id: string;
  /** The server's RPC address, `host:port`. */
  address: string;
  voter: boolean;
  leader: boolean;
  /** The last log index and term the leader knows the server holds (its own on the leader). */
  lastIndex: number;
  lastTerm: number;
  /** Milliseconds since the leader last heard from the server; 0 for the leader itself. */
  lastContactMs: number;
}

export interface RaftConfiguration {
  /** The log index of the configuration. */
  index: number;
  servers: RaftPeer[];
}

/** The server's view of its Raft cluster, for /v1/status and /v1/operator. */
export interface ClusterView {
  /** The leader's RPC address, or '' when there is none. */
  leaderAddress(): string;
  /** The voters' RPC addresses. */
  peerAddresses(): string[];
  isLeader(): boolean;
  /** As the leader sees it; with `stale`, as this server sees it. Fails with `No cluster leader`. */
  configuration(stale: boolean): Promise<RaftConfiguration>;
  removePeer(target: { id: string } | { address: string }): Promise<void>;
  /** Hands leadership to the server `id`, or to the most up-to-date voter when undefined. */
  transferLeadership(id: string | undefined): Promise<void>;
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

/** Consul's keyring operations (structs.KeyringOp). */
export type KeyringOp = 'list' | 'install' | 'use' | 'remove';

/** One gossip pool's answer to a keyring operation (Consul's structs.KeyringResponse). */
export interface KeyringPoolResponse {
  WAN: boolean;
  Datacenter: string;
  Segment: string;
  /** What members that failed (or had a note) said, by node name. */
  Messages: Record<string, string>;
  /** Each key (base64) and how many members hold it. */
  Keys: Record<string, number>;
  /** Each primary key (base64) and how many members use it. */
  PrimaryKeys: Record<string, number>;
  /** Members the pool counted alive when the operation went out. */
  NumNodes: number;
  /** serf's error, or '' when every member answered and none failed. */
  Error: string;
}

/** The gossip keyrings of the cluster, as Consul's Internal.KeyringOperation reaches them. */
export interface KeyringOperations {
  /**
   * Runs the operation on every member of the WAN pool (servers, unless `localOnly`) and then of the LAN
   * pool, one answer per pool. Rejects with Consul's error when this agent cannot run it.
   */
  run(
    op: KeyringOp,
    key: string,
    options: { relayFactor: number; localOnly: boolean },
  ): Promise<KeyringPoolResponse[]>;
}

export interface AgentRuntime {
  config: AgentConfig;
  nodeId: string;
  version: string;
  startedAt: Date;
  local: LocalAgent;
  /** The LAN pool's members, or the WAN pool's (servers only). */
  members(wan?: boolean): Member[];
  /** Joins the LAN (or WAN) pool through `address`; resolves with how many nodes answered. */
  join(address: string, wan?: boolean): Promise<number>;
  /** Forces a failed member to left (prune: forget it at once); false when it is not failed. */
  forceLeave(node: string, prune: boolean): boolean;
  /** Gossips a user event to the LAN pool (this agent takes it too, once it comes back). */
  fireEvent(event: UserEvent): void;
  /** Whether LAN gossip is encrypted (by -encrypt or a keyring file in the data dir). */
  gossipEncrypted(): boolean;
  /** The user events this agent has taken. */
  events: EventBuffer;
  /** Leaves the cluster and shuts the agent down (after the HTTP answer is sent). */
  leave(): void;
  reload(): Promise<void>;
  /** After a snapshot restore: re-arm leader timers and register this agent's own node and services again. */
  afterRestore(): Promise<void>;
  /** The gossip keyring operations (/v1/operator/keyring); absent where the agent offers none. */
  keyring?: KeyringOperations;
}

/** Session renewals, which only the leader's TTL timers can take. */
export interface SessionRenewal {
  /** The renewed session, or undefined when it does not exist. */
  renew(id: string): Promise<SessionRow | undefined>;
}

/** A client agent's way to a server: requests it does not answer itself go there whole. */
export type Forwarder = (request: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
}) => Promise<{ status: number; headers: Record<string, string>; body: Uint8Array }>;

export interface HttpContext {
  store: StateStore;
  applier: Applier;
  reads: ReadGate;
  cluster: ClusterView;
  agent: AgentRuntime;
  sessions: SessionRenewal;
  metrics: Metrics;
  log: Logger;
  /** Set on client agents: everything but the agent's own endpoints is answered by a server. */
  forward?: Forwarder;
}
