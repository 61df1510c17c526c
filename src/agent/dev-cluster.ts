import type { ClusterView, RaftConfiguration } from '../http/context.ts';
import type { StateStore } from '../state/store.ts';

/** The dev agent's cluster: itself, always the leader of a one-voter configuration. */
export class SingleServerCluster implements ClusterView {
  constructor(
    private readonly id: string,
    private readonly address: string,
    private readonly store: StateStore,
  ) {}

  leaderAddress(): string {
    return this.address;
  }

  peerAddresses(): string[] {
    return [this.address];
  }

  isLeader(): boolean {
    return true;
  }

  async configuration(): Promise<RaftConfiguration> {
    const lastIndex = this.store.lastIndex;
    return {
      index: 1,
      servers: [
        {
          id: this.id,
          address: this.address,
          voter: true,
          leader: true,
          lastIndex,
          lastTerm: 1,
          lastContactMs: 0,
        },
      ],
    };
  }

  async removePeer(target: { id: string } | { address: string }): Promise<void> {
    if ('id' in target) {
      if (target.id === this.id) throw new Error('cannot remove the last voter of the configuration');
      throw new Error(`id "${target.id}" was not found in the Raft configuration`);
    }
    if (target.address === this.address) throw new Error('cannot remove the last voter of the configuration');
    throw new Error(`address "${target.address}" was not found in the Raft configuration`);
  }

  async transferLeadership(): Promise<void> {
    throw new Error('cannot find peer');
  }
}
