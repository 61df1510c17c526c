import type { Logger } from 'pino';
import type { RpcPool } from '../rpc/pool.ts';

// How servers find each other and form or join a Raft cluster: each server asks the servers it knows of (from
// the LAN gossip pool, and the -retry-join hosts on the RPC port), and those they know, who they are. Once a
// cluster with a leader is found, the server asks that leader to add it; with -bootstrap-expect=N, when N
// servers know of each other and none has any Raft state, each bootstraps the same configuration of N, as
// Consul's servers do once gossip shows them N peers.

export const ServerMethod = {
  info: 'Server.Info',
  join: 'Server.Join',
  leave: 'Server.Leave',
  renewSession: 'Session.Renew',
} as const;

export interface ServerIdentity {
  id: string;
  /** The RPC address, `host:port`. */
  address: string;
}

/** What one server says of itself when asked. */
export interface ServerInfo extends ServerIdentity {
  datacenter: string;
  bootstrapExpect: number;
  /** The last Raft log index it holds: anything above 0 means it belongs to a cluster already. */
  lastIndex: number;
  leaderAddress: string;
  /** Servers it knows of: its configuration's members, or those it discovered while waiting. */
  known: ServerIdentity[];
}

/** What the joining logic needs of the local Raft server. */
export interface JoinTarget {
  info(): ServerInfo;
  /** Whether this server is in a configuration that has a leader. */
  settled(): boolean;
  bootstrap(servers: ServerIdentity[]): Promise<void>;
}

export interface ServerJoinOptions {
  /** RPC addresses (`host:port`) of servers to ask: those gossip shows, and the -retry-join hosts. */
  seeds: () => string[];
  bootstrapExpect: number;
  bootstrap: boolean;
  retryIntervalMs?: number;
  probeTimeoutMs?: number;
}

export class ServerJoin {
  private readonly discovered = new Map<string, ServerIdentity>();
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly target: JoinTarget,
    private readonly pool: RpcPool,
    private readonly options: ServerJoinOptions,
    private readonly log: Logger,
  ) {}

  /** Servers this one has heard of while it is not yet in a cluster (answered to Server.Info). */
  known(): ServerIdentity[] {
    return [...this.discovered.values()];
  }

  /**
   * Runs until stop(): whenever this server is not settled in a cluster (at start, or after autopilot
   * removed it while it was away), it looks for one to bootstrap or join.
   */
  async run(): Promise<void> {
    const self = this.target.info();
    if (this.options.bootstrap && self.lastIndex === 0) {
      this.log.info('bootstrapping a single-server cluster (-bootstrap)');
      await this.target.bootstrap([{ id: self.id, address: self.address }]);
    }
    let announced = false;
    while (!this.stopped) {
      if (!this.target.settled()) {
        try {
          await this.attempt();
        } catch (err) {
          this.log.debug({ err }, 'join attempt failed');
        }
        if (!announced && this.options.seeds().length === 0 && this.options.bootstrapExpect === 0) {
          this.log.warn('no other servers known and no -bootstrap-expect: waiting to be added to a cluster');
          announced = true;
        }
      }
      await this.pause(this.options.retryIntervalMs ?? 1000);
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private async attempt(): Promise<void> {
    const self = this.target.info();
    const infos = await this.probeAll(self);
    const leader = infos.find((info) => info.leaderAddress !== '');
    if (leader) {
      const joined = leader.known.some((s) => s.id === self.id);
      if (!joined) {
        this.log.info({ leader: leader.leaderAddress }, 'asking the cluster leader to add this server');
        await this.pool
          .get(leader.leaderAddress)
          .call(ServerMethod.join, { id: self.id, address: self.address }, { timeoutMs: 10_000 });
      }
      return;
    }
    const expect = this.options.bootstrapExpect;
    if (expect === 0 || self.lastIndex > 0 || infos.some((info) => info.lastIndex > 0)) return;
    const peers = infos.filter(
      (info) => info.bootstrapExpect === expect && info.datacenter === self.datacenter,
    );
    const servers = [self, ...peers].map(({ id, address }) => ({ id, address }));
    if (servers.length !== expect) {
      // Every server must bootstrap the same configuration, so more servers than expected is an operator
      // error to fix, not something to guess around.
      if (servers.length > expect)
        this.log.error({ found: servers.length, expect }, 'more servers than expected');
      else this.log.info({ found: servers.length, expect }, 'waiting for more servers to bootstrap');
      return;
    }
    this.log.info({ servers: servers.map((s) => s.address) }, 'found the expected servers: bootstrapping');
    await this.target.bootstrap(servers.sort((a, b) => a.id.localeCompare(b.id)));
  }

  /** Asks every address it can think of, following the servers each answer knows, for their info. */
  private async probeAll(self: ServerInfo): Promise<ServerInfo[]> {
    const answers = new Map<string, ServerInfo>();
    const asked = new Set<string>([self.address]);
    let wave = this.options.seeds();
    while (wave.length > 0) {
      const fresh = wave.filter((address) => !asked.has(address));
      for (const address of fresh) asked.add(address);
      const results = await Promise.allSettled(fresh.map((address) => this.probe(address)));
      wave = [];
      for (const result of results) {
        if (result.status !== 'fulfilled' || result.value.id === self.id) continue;
        const info = result.value;
        answers.set(info.id, info);
        this.discovered.set(info.id, { id: info.id, address: info.address });
        wave.push(info.address, ...info.known.map((s) => s.address));
      }
    }
    return [...answers.values()];
  }

  private async probe(address: string): Promise<ServerInfo> {
    const timeoutMs = this.options.probeTimeoutMs ?? 2000;
    return (await this.pool.get(address).call(ServerMethod.info, {}, { timeoutMs })) as ServerInfo;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms * (0.75 + Math.random() * 0.5));
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
