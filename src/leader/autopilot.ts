import type { Logger } from 'pino';
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

/** What autopilot needs of the Raft server it runs on. */
export interface AutopilotTarget {
  /** The configuration with the leader's view of every server. */
  configuration(): RaftConfiguration;
  promote(id: string): Promise<void>;
  remove(id: string): Promise<void>;
}

/** Consul's server_stabilization_time: a new server votes only after it has been healthy this long. */
export const SERVER_STABILIZATION_MS = 10_000;
const AUTOPILOT_INTERVAL_MS = 1_000;

/**
 * How long a server must stay failed before autopilot removes it. Longer than the
 * promotion wait, so a short partition or a restart does not cost a server its place.
 */
export const DEAD_SERVER_AFTER_MS = 30_000;

/**
 * The leader's autopilot. It promotes non-voters that have stayed healthy for the stabilization time, so a
 * server that joins cannot weaken the quorum while it is still catching up; and it removes servers that
 * have stayed failed (Consul's cleanup_dead_servers), as long as fewer than half the voters go at once. A
 * non-voter just added and not heard from yet is not dead, only new. A removed server that comes back
 * asks to join again.
 */
export class Autopilot {
  private readonly tracker = new ServerHealthTracker();
  /** Non-voters seen healthy since they were (last) added: only those, and voters, can be declared dead. */
  private readonly everHealthy = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly target: AutopilotTarget,
    private readonly log: Logger,
    private readonly stabilizationMs = SERVER_STABILIZATION_MS,
    private readonly deadAfterMs = DEAD_SERVER_AFTER_MS,
  ) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.tick(), AUTOPILOT_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    const now = Date.now();
    const health = this.tracker.evaluate(this.target.configuration(), new Date(now));
    const stableFor = (s: ServerHealth, ms: number) => now - s.stableSince.getTime() >= ms;
    for (const server of health.servers) if (server.healthy) this.everHealthy.add(server.id);
    for (const id of this.everHealthy)
      if (!health.servers.some((s) => s.id === id)) this.everHealthy.delete(id);
    const promotions = health.servers.filter(
      (s) => !s.voter && s.healthy && stableFor(s, this.stabilizationMs),
    );
    const removals = deadServers(
      health.servers.filter(
        (s) =>
          s.status === 'failed' &&
          !s.leader &&
          (s.voter || this.everHealthy.has(s.id)) &&
          stableFor(s, this.deadAfterMs),
      ),
      health,
    );
    this.busy = true;
    try {
      for (const server of promotions) {
        this.log.info(
          { server: server.id, address: server.address },
          'autopilot: promoting a stable server to voter',
        );
        await this.target.promote(server.id);
      }
      for (const server of removals) {
        this.log.info({ server: server.id, address: server.address }, 'autopilot: removing a dead server');
        await this.target.remove(server.id);
      }
    } catch (err) {
      this.log.warn({ err }, 'autopilot: a membership change failed; will retry');
    } finally {
      this.busy = false;
    }
  }
}

/** The failed servers that may go: every failed non-voter, and the failed voters if fewer than half. */
function deadServers(failed: ServerHealth[], health: ClusterHealth): ServerHealth[] {
  const voters = health.servers.filter((s) => s.voter).length;
  const failedVoters = failed.filter((s) => s.voter);
  return failedVoters.length < voters / 2 ? failed : failed.filter((s) => !s.voter);
}
