import type { RaftConfiguration, RaftPeer } from '../http/context.ts';

// Autopilot's view of server health (Consul's /v1/operator/autopilot/health): a server is healthy when the
// leader heard from it recently, it is on the leader's term and its log trails the leader's by few entries.

export interface AutopilotSettings {
  lastContactThresholdMs: number;
  maxTrailingLogs: number;
  /** Without gossip yet, a server the leader has not heard from for this long counts as failed. */
  failedAfterMs: number;
}

/** Consul's defaults: last_contact_threshold 200ms, max_trailing_logs 250. */
export const DEFAULT_AUTOPILOT: AutopilotSettings = {
  lastContactThresholdMs: 200,
  maxTrailingLogs: 250,
  failedAfterMs: 5_000,
};

export interface ServerHealth extends RaftPeer {
  status: 'alive' | 'failed';
  healthy: boolean;
  /** When `healthy` last changed. */
  stableSince: Date;
}

export interface ClusterHealth {
  healthy: boolean;
  /** How many voters could fail with quorum kept. */
  failureTolerance: number;
  servers: ServerHealth[];
}

/** Evaluates health and remembers since when each server has kept its current health. */
export class ServerHealthTracker {
  private readonly since = new Map<string, { healthy: boolean; at: Date }>();

  constructor(private readonly settings: AutopilotSettings = DEFAULT_AUTOPILOT) {}

  evaluate(configuration: RaftConfiguration, now = new Date()): ClusterHealth {
    const leader = configuration.servers.find((s) => s.leader);
    const servers = configuration.servers.map((server) => {
      const status: ServerHealth['status'] =
        server.lastContactMs < this.settings.failedAfterMs ? 'alive' : 'failed';
      const healthy =
        leader !== undefined &&
        status === 'alive' &&
        server.lastContactMs <= this.settings.lastContactThresholdMs &&
        server.lastTerm === leader.lastTerm &&
        leader.lastIndex - server.lastIndex <= this.settings.maxTrailingLogs;
      return { ...server, status, healthy, stableSince: this.stableSince(server.id, healthy, now) };
    });
    for (const id of this.since.keys()) if (!servers.some((s) => s.id === id)) this.since.delete(id);
    const voters = servers.filter((s) => s.voter);
    const quorum = Math.floor(voters.length / 2) + 1;
    const healthyVoters = voters.filter((s) => s.healthy).length;
    return {
      healthy: servers.every((s) => s.healthy),
      failureTolerance: Math.max(healthyVoters - quorum, 0),
      servers,
    };
  }

  private stableSince(id: string, healthy: boolean, now: Date): Date {
    const known = this.since.get(id);
    if (known && known.healthy === healthy) return known.at;
    this.since.set(id, { healthy, at: now });
    return now;
  }
}
