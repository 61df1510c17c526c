/** serf's member status, numbered as serf's MemberStatus (what /v1/agent/members shows in Status). */
export const MemberStatus = { none: 0, alive: 1, leaving: 2, left: 3, failed: 4 } as const;
export type MemberStatusName = keyof typeof MemberStatus;

/** A member as serf presents it. */
export interface SerfMember {
  name: string;
  addr: Uint8Array;
  port: number;
  tags: Record<string, string>;
  status: MemberStatusName;
  /** [pmin, pmax, pcur, dmin, dmax, dcur] */
  vsn: readonly number[];
}

export type SerfEvent =
  | {
      type: 'member-join' | 'member-update' | 'member-leave' | 'member-failed' | 'member-reap';
      member: SerfMember;
    }
  | { type: 'user'; ltime: number; name: string; payload: Uint8Array; coalesce: boolean };

/** serf's timings; Consul's agent sets the reconnect and tombstone timeouts. */
export interface SerfConfig {
  /** A failed member is forgotten after this long (Consul: reconnect_timeout, 72 h). */
  reconnectTimeoutMs: number;
  /** A member that left is forgotten after this long (serf: tombstone_timeout, 24 h). */
  tombstoneTimeoutMs: number;
  /** How long join/leave intents about unknown members are kept (serf: 5 min). */
  recentIntentTimeoutMs: number;
  /** User events remembered for de-duplication, by event time (serf: 512). */
  eventBuffer: number;
  /** Retransmits of serf's own broadcasts, as memberlist's retransmit multiplier (serf: 4). */
  retransmitMult: number;
  /** Largest user event (name + payload) serf sends (serf: 512 bytes). */
  userEventSizeLimit: number;
  /** Queries remembered for de-duplication, by query time (serf: QueryBuffer, 512). */
  queryBuffer: number;
  /** A query's default timeout is gossip interval × this × ceil(log10(n + 1)) (serf: QueryTimeoutMult, 16). */
  queryTimeoutMult: number;
  /** Largest encoded query serf sends (serf: QuerySizeLimit, 1024 bytes). */
  querySizeLimit: number;
  /** Largest encoded query response (or relayed response) serf sends (serf: QueryResponseSizeLimit, 1024). */
  queryResponseSizeLimit: number;
}

export const DEFAULT_SERF_CONFIG: Readonly<SerfConfig> = {
  reconnectTimeoutMs: 72 * 3600_000,
  tombstoneTimeoutMs: 24 * 3600_000,
  recentIntentTimeoutMs: 5 * 60_000,
  eventBuffer: 512,
  retransmitMult: 4,
  userEventSizeLimit: 512,
  queryBuffer: 512,
  queryTimeoutMult: 16,
  querySizeLimit: 1024,
  queryResponseSizeLimit: 1024,
};
