import type { Logger } from 'pino';
import type { SessionRenewal } from '../http/context.ts';
import { Autopilot } from '../leader/autopilot.ts';
import type { SessionTimers } from '../leader/session-timers.ts';
import { RaftApplier } from '../raft/driver/applier.ts';
import { RaftClusterView } from '../raft/driver/cluster-view.ts';
import { NotLeaderError } from '../raft/driver/errors.ts';
import {
  askLeader,
  DEFAULT_FORWARD_TIMEOUT_MS,
  DEFAULT_HOLD_TIMEOUT_MS,
  leaderOnly,
  onLeader,
} from '../raft/driver/forwarding.ts';
import { RaftReadGate } from '../raft/driver/read-gate.ts';
import { RaftServer } from '../raft/driver/server.ts';
import { RpcPool } from '../rpc/pool.ts';
import { RpcServer } from '../rpc/server.ts';
import type { StateStore } from '../state/store.ts';
import type { SessionRow } from '../state/types.ts';
import type { ConsensusBackend } from './backend.ts';
import type { AgentConfig } from './config.ts';
import { rpcAddress } from './self-registration.ts';
import { type ServerIdentity, type ServerInfo, ServerJoin, ServerMethod } from './server-join.ts';
import { checkRenewed, checkServerIdentity, checkSessionId } from './server-wire.ts';

/** How long a graceful leave waits for the cluster to drop this server before shutting down anyway. */
const LEAVE_TIMEOUT_MS = 5_000;

/** A server agent: Raft over the server RPC port, with its data under -data-dir. */
export class RaftBackend implements ConsensusBackend {
  readonly applier: RaftApplier;
  readonly reads: RaftReadGate;
  readonly cluster: RaftClusterView;
  private readonly rpc: RpcServer;
  private readonly pool: RpcPool;
  private readonly raft: RaftServer;
  private readonly join: ServerJoin;
  private readonly autopilot: Autopilot;
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private timers: SessionTimers | undefined;
  private leading = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly nodeId: string,
    store: StateStore,
    /** RPC addresses of other servers worth asking when looking for a cluster. */
    seeds: () => string[],
    private readonly log: Logger,
  ) {
    this.rpc = new RpcServer({
      host: config.bindAddr,
      port: config.serverPort,
      logger: log.child({ name: 'rpc' }),
    });
    this.pool = new RpcPool({ logger: log.child({ name: 'rpc.client' }) });
    this.raft = new RaftServer({
      id: nodeId,
      address: rpcAddress(config),
      dataDir: config.dataDir!,
      store,
      rpcServer: this.rpc,
      pool: this.pool,
      logger: log,
      snapshotThreshold: config.raftSnapshotThreshold,
      trailingLogs: config.raftTrailingLogs,
    });
    this.applier = new RaftApplier(this.raft);
    this.reads = new RaftReadGate(this.raft);
    this.cluster = new RaftClusterView(this.raft);
    this.join = new ServerJoin(
      {
        info: () => this.info(),
        settled: () => this.raft.leader() !== null && this.raft.members().some((m) => m.id === nodeId),
        bootstrap: async (servers) => {
          await this.raft.bootstrap(servers.map((s) => ({ ...s, voter: true })));
        },
      },
      this.pool,
      {
        seeds,
        bootstrapExpect: config.bootstrapExpect,
        bootstrap: config.bootstrap,
      },
      log.child({ name: 'agent.join' }),
    );
    this.autopilot = new Autopilot(this.raft, log.child({ name: 'autopilot' }));
    this.registerHandlers();
  }

  sessionRenewal(timers: SessionTimers): SessionRenewal {
    this.timers = timers;
    return {
      renew: (id) =>
        onLeader(this.raft, DEFAULT_HOLD_TIMEOUT_MS, {
          local: async () => this.renewHere(id),
          remote: (client) =>
            askLeader(client, ServerMethod.renewSession, { id }, checkRenewed, DEFAULT_FORWARD_TIMEOUT_MS),
        }),
    };
  }

  onLeadership(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  serve(method: string, handler: (body: unknown) => Promise<unknown>): void {
    this.rpc.handle(method, handler);
  }

  async start(): Promise<void> {
    // Raft first: the RPC handlers (Server.Info included) read its state from the first request on.
    await this.raft.start();
    await this.rpc.listen();
    this.raft.onStateChange(() => this.leadershipMaybeChanged());
    void this.join.run().catch((err) => this.log.error({ err }, 'joining the cluster failed'));
  }

  /** Takes this server out of the Raft configuration (the leader hands over first), as a leaving server must. */
  async leave(): Promise<void> {
    this.join.stop();
    if (this.raft.members().length <= 1) return;
    await Promise.race([
      this.cluster.removePeer({ id: this.nodeId }),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('timed out leaving the cluster')), LEAVE_TIMEOUT_MS).unref(),
      ),
    ]);
  }

  async stop(): Promise<void> {
    this.join.stop();
    this.setLeading(false);
    await this.raft.stop();
    await this.rpc.close();
    this.pool.close();
  }

  private leadershipMaybeChanged(): void {
    this.setLeading(this.raft.isLeader);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.autopilot.start();
    else this.autopilot.stop();
    for (const listener of this.listeners) listener(leading);
  }

  private renewHere(id: string): SessionRow | undefined {
    if (!this.raft.isLeader || !this.timers) throw new NotLeaderError();
    return this.timers.renew(id);
  }

  private info(): ServerInfo {
    const members = this.raft.members();
    const known: ServerIdentity[] =
      members.length > 0 ? members.map(({ id, address }) => ({ id, address })) : this.join.known();
    return {
      id: this.nodeId,
      address: rpcAddress(this.config),
      datacenter: this.config.datacenter,
      bootstrapExpect: this.config.bootstrapExpect,
      lastIndex: this.raft.status().lastIndex,
      leaderAddress: this.raft.leader()?.address ?? '',
      known,
    };
  }

  private registerHandlers(): void {
    this.rpc.handle(ServerMethod.info, () => this.info());
    this.rpc.handle(ServerMethod.join, (body) => {
      const joining = checkServerIdentity(body);
      return leaderOnly(async () => {
        if (!this.raft.isLeader) throw new NotLeaderError();
        if (this.raft.members().some((m) => m.id === joining.id)) return true;
        this.log.info(
          { server: joining },
          'adding a server as a non-voter; autopilot promotes it once stable',
        );
        await this.raft.addNonVoter(joining.id, joining.address);
        return true;
      });
    });
    this.rpc.handle(ServerMethod.renewSession, (body) => {
      const id = checkSessionId(body);
      return leaderOnly(async () => this.renewHere(id) ?? null);
    });
  }
}
