import type { ClusterView, RaftConfiguration } from '../../http/context.ts';
import { DEFAULT_FORWARD_TIMEOUT_MS, DEFAULT_HOLD_TIMEOUT_MS, type ForwardingOptions } from './applier.ts';
import { NotLeaderError } from './errors.ts';
import { askLeader, onLeader } from './forwarding.ts';
import type { RaftServer } from './server.ts';
import { checkConfiguration, type PeerTarget, RaftMethod } from './wire.ts';

/**
 * The Raft cluster as /v1/status and /v1/operator show it. Operator calls run on the leader, forwarded
 * there from a follower as Consul forwards them; without a leader they fail with "No cluster leader".
 */
export class RaftClusterView implements ClusterView {
  private readonly holdTimeoutMs: number;
  private readonly forwardTimeoutMs: number;

  constructor(
    private readonly server: RaftServer,
    options: ForwardingOptions = {},
  ) {
    this.holdTimeoutMs = options.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS;
    this.forwardTimeoutMs = options.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
  }

  leaderAddress(): string {
    return this.server.leader()?.address ?? '';
  }

  peerAddresses(): string[] {
    return this.server
      .members()
      .filter((member) => member.voter)
      .map((member) => member.address);
  }

  isLeader(): boolean {
    return this.server.isLeader;
  }

  async configuration(stale: boolean): Promise<RaftConfiguration> {
    if (stale) return this.server.configuration();
    return onLeader(this.server, this.holdTimeoutMs, {
      local: async () => {
        if (!this.server.isLeader) throw new NotLeaderError();
        return this.server.configuration();
      },
      remote: (client) =>
        askLeader(client, RaftMethod.configuration, {}, checkConfiguration, this.forwardTimeoutMs),
    });
  }

  removePeer(target: PeerTarget): Promise<void> {
    return onLeader(this.server, this.holdTimeoutMs, {
      local: () => this.server.removePeer(target),
      remote: (client) =>
        askLeader(client, RaftMethod.removePeer, target, () => undefined, this.forwardTimeoutMs),
    });
  }

  async transferLeadership(id: string | undefined): Promise<void> {
    await onLeader(this.server, this.holdTimeoutMs, {
      local: () => this.server.transferLeadership(id),
      remote: (client) =>
        askLeader(client, RaftMethod.transferLeadership, { id: id ?? null }, String, this.forwardTimeoutMs),
    });
  }
}
