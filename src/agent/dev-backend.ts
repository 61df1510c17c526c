import type { ReadGate, SessionRenewal } from '../http/context.ts';
import type { SessionTimers } from '../leader/session-timers.ts';
import { SingleNodeLog } from '../state/applier.ts';
import type { StateStore } from '../state/store.ts';
import type { ConsensusBackend } from './backend.ts';
import { SingleServerCluster } from './dev-cluster.ts';

/** The dev agent: an in-memory log that commits on append, on a server that always leads. */
export class DevBackend implements ConsensusBackend {
  readonly applier: SingleNodeLog;
  readonly cluster: SingleServerCluster;
  readonly reads: ReadGate = { prepare: async () => ({ knownLeader: true, lastContactMs: 0 }) };
  private readonly listeners: ((leading: boolean) => void)[] = [];

  constructor(store: StateStore, nodeId: string, rpcAddress: string) {
    this.applier = new SingleNodeLog(store);
    this.cluster = new SingleServerCluster(nodeId, rpcAddress, store);
  }

  sessionRenewal(timers: SessionTimers): SessionRenewal {
    return { renew: async (id) => timers.renew(id) };
  }

  onLeadership(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  serve(): void {}

  async start(): Promise<void> {
    for (const listener of this.listeners) listener(true);
  }

  async leave(): Promise<void> {}

  async stop(): Promise<void> {
    for (const listener of this.listeners) listener(false);
  }
}
