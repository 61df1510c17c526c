// Rows of the replicated state. Field names are Consul's, so HTTP responses are these rows (plus a few derived
// fields) and nothing has to be renamed on the hot read path.

export interface RaftIndexes {
  CreateIndex: number;
  ModifyIndex: number;
}

export type HealthStatus = 'passing' | 'warning' | 'critical' | 'maintenance';
export const HEALTH_STATUSES: readonly HealthStatus[] = ['passing', 'warning', 'critical', 'maintenance'];

export interface NodeRow extends RaftIndexes {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string>;
  Meta: Record<string, string>;
}

export interface ServiceWeights {
  Passing: number;
  Warning: number;
}

export interface ServiceRow extends RaftIndexes {
  Node: string;
  Kind: string;
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  TaggedAddresses: Record<string, { Address: string; Port: number }>;
  Meta: Record<string, string>;
  Port: number;
  Weights: ServiceWeights;
  EnableTagOverride: boolean;
  /** Sidecar proxy settings (Kind connect-proxy); kept as the client sent them. */
  Proxy: Record<string, unknown> | null;
  Connect: { Native?: boolean } | null;
}

export interface CheckDefinition {
  Interval?: string;
  Timeout?: string;
  TTL?: string;
  DeregisterCriticalServiceAfter?: string;
  [key: string]: unknown;
}

export interface CheckRow extends RaftIndexes {
  Node: string;
  CheckID: string;
  Name: string;
  Status: HealthStatus;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
  Definition: CheckDefinition;
}

/** Go's uint64: a number while it is exact, a bigint beyond 2^53. */
export type Uint64 = number | bigint;

export interface KVRow extends RaftIndexes {
  Key: string;
  Flags: Uint64;
  Value: Uint8Array | null;
  LockIndex: number;
  Session: string;
}

export type SessionBehavior = 'release' | 'delete';

export interface SessionRow extends RaftIndexes {
  ID: string;
  Name: string;
  Node: string;
  /** Nanoseconds, as Consul's JSON carries it. */
  LockDelay: number;
  Behavior: SessionBehavior;
  /** Go duration text, "" when the session has no TTL. */
  TTL: string;
  NodeChecks: string[];
  ServiceChecks: { ID: string; Namespace: string }[];
  /** The deprecated Checks list exactly as the client sent it; Consul keeps and echoes it. */
  Checks: string[];
}

/** A prepared query (/v1/query), as Consul stores it. */
export interface PreparedQueryRow extends RaftIndexes {
  ID: string;
  Name: string;
  Session: string;
  Token: string;
  Template: { Type: string; Regexp: string; RemoveEmptyTags: boolean };
  Service: {
    Service: string;
    Failover: { NearestN: number; Datacenters: string[] };
    IgnoreCheckIDs: string[];
    OnlyPassing: boolean;
    Near: string;
    Tags: string[];
    NodeMeta: Record<string, string>;
    ServiceMeta: Record<string, string>;
    Connect: { Enabled: boolean };
  };
  DNS: { TTL: string };
}

export type TableName =
  | 'nodes'
  | 'services'
  | 'checks'
  | 'kvs'
  | 'tombstones'
  | 'sessions'
  | 'prepared-queries';
export const TABLES: readonly TableName[] = [
  'nodes',
  'services',
  'checks',
  'kvs',
  'tombstones',
  'sessions',
  'prepared-queries',
];
