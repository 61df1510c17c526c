/** How a check is run: the parsed, validated form of an agent check definition. */
export type CheckSpec =
  | { kind: 'ttl'; ttlMs: number }
  | ({ kind: 'http'; http: HttpTarget } & Schedule)
  | ({ kind: 'tcp'; address: string } & Schedule)
  | ({ kind: 'udp'; address: string } & Schedule)
  | ({ kind: 'grpc'; grpc: GrpcTarget } & Schedule)
  | ({ kind: 'script'; args: string[] } & Schedule)
  | ({ kind: 'alias' } & AliasTarget)
  | { kind: 'maintenance' };

export interface HttpTarget {
  url: string;
  method: string;
  headers: Record<string, string[]>;
  body: string;
  tlsSkipVerify: boolean;
  tlsServerName: string;
}

/** A gRPC health endpoint: `GRPC: "host:port[/service]"`. */
export interface GrpcTarget {
  /** The definition as given, which Consul's outputs quote. */
  target: string;
  /** host:port to dial. */
  address: string;
  /** The service name sent in grpc.health.v1.HealthCheckRequest; "" asks about the whole server. */
  service: string;
  useTLS: boolean;
  tlsSkipVerify: boolean;
  tlsServerName: string;
}

/** Whose health an alias check mirrors: a service instance (`serviceId`) or a node's own checks. */
export interface AliasTarget {
  /** "" for this agent's own node. */
  node: string;
  /** "" to alias the node alone. */
  serviceId: string;
}

export interface Schedule {
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive results needed before the reported status changes (Consul's status handler). */
  successBeforePassing: number;
  failuresBeforeWarning: number;
  failuresBeforeCritical: number;
}

export type ScheduledSpec = Extract<CheckSpec, Schedule>;

export const isScheduled = (spec: CheckSpec): spec is ScheduledSpec => 'intervalMs' in spec;
