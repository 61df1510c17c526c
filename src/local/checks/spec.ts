/** How a check is run: the parsed, validated form of an agent check definition. */
export type CheckSpec =
  | { kind: 'ttl'; ttlMs: number }
  | ({ kind: 'http'; http: HttpTarget } & Schedule)
  | ({ kind: 'tcp'; address: string } & Schedule)
  | ({ kind: 'udp'; address: string } & Schedule)
  | ({ kind: 'script'; args: string[] } & Schedule)
  | { kind: 'maintenance' };

export interface HttpTarget {
  url: string;
  method: string;
  headers: Record<string, string[]>;
  body: string;
  tlsSkipVerify: boolean;
  tlsServerName: string;
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
