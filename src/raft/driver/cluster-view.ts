import type { ClusterView, RaftConfiguration } from '../../http/context.ts';
import { NotLeaderError } from './errors.ts';
import { askLeader, type ForwardingOptions, onLeader, resolveForwarding } from './forwarding.ts';
import type { RaftServer } from './server.ts';
import { checkConfiguration, type PeerTarget, RaftMethod } from './wire.ts';

/**
 * The Raft cluster as /v1/status and /v1/operator show it. Operator calls run on the leader, forwarded
 * there from a follower as Consul forwards them; without a leader they fail with "No cluster leader".
 */
export class RaftClusterView implements ClusterView {
  private readonly forwarding: Required<ForwardingOptions>;

  constructor(
    private readonly server: RaftServer,
    options: ForwardingOptions = {},
  ) {
    this.forwarding = resolveForwarding(options);
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
    return onLeader(this.server, this.forwarding.holdTimeoutMs, {
      local: async () => {
        if (!this.server.isLeader) throw new NotLeaderError();
        return this.server.configuration();
      },
      remote: (client) =>
        askLeader(client, RaftMethod.configuration, {}, checkConfiguration, this.forwarding.forwardTimeoutMs),
    });
  }

  removePeer(target: PeerTarget): Promise<void> {
    return onLeader(this.server, this.forwarding.holdTimeoutMs, {
      local: () => this.server.removePeer(target),
      remote: (client) =>
        askLeader(client, RaftMethod.removePeer, target, () => undefined, this.forwarding.forwardTimeoutMs),
    });
  }

  async transferLeadership(id: string | undefined): Promise<void> {
    await onLeader(this.server, this.forwarding.holdTimeoutMs, {
      local: () => this.server.transferLeadership(id),
      remote: (client) =>
        askLeader(
          client,
          RaftMethod.transferLeadership,
          { id: id ?? null },
          String,
          this.forwarding.forwardTimeoutMs,
        ),
    });
  }
}
