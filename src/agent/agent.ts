import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AgentRuntime, HttpContext, Member } from '../http/context.ts';
import { buildHttpServer } from '../http/server.ts';
import { SessionTimers } from '../leader/session-timers.ts';
import { TombstoneReaper } from '../leader/tombstone-reaper.ts';
import { LocalAgent } from '../local/local-agent.ts';
import { StateStore } from '../state/store.ts';
import { Metrics } from '../telemetry/metrics.ts';
import type { ConsensusBackend } from './backend.ts';
import type { AgentConfig } from './config.ts';
import { DevBackend } from './dev-backend.ts';
import { resolveNodeId } from './node-id.ts';
import { registerServer, SERF_LAN_PORT, SERVER_RPC_PORT, selfNode } from './self-registration.ts';
import { TRIBUNE_VERSION } from './version.ts';

/** A running agent. The dev agent is a single in-memory server: its log commits on append and it always leads. */
export class Agent {
  private http: FastifyInstance | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stoppedSignal: Promise<void>;
  private resolveStopped!: () => void;
  readonly store = new StateStore();
  readonly metrics = new Metrics(this.store);
  readonly nodeId: string;
  private readonly local: LocalAgent;
  private readonly sessionTimers: SessionTimers;
  private readonly reaper: TombstoneReaper;
  private readonly backend: ConsensusBackend;
  private readonly applier;

  constructor(
    readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    if (!config.dev) {
      throw new Error('Only the dev agent (-dev) runs so far: servers need Raft and clients need gossip');
    }
    this.nodeId = resolveNodeId(config);
    const rpcAddress = `${selfNode(config, this.nodeId).Address}:${SERVER_RPC_PORT}`;
    this.backend = new DevBackend(this.store, this.nodeId, rpcAddress);
    this.applier = this.metrics.metered(this.backend.applier);
    this.local = new LocalAgent(
      selfNode(config, this.nodeId),
      this.applier,
      log.child({ name: 'agent.local' }),
    );
    this.sessionTimers = new SessionTimers(this.store, this.applier, log.child({ name: 'agent.session' }));
    this.reaper = new TombstoneReaper(this.store, this.applier, log.child({ name: 'agent.tombstones' }));
    this.backend.onLeadership((leading) => this.leadershipChanged(leading));
    this.stoppedSignal = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
  }

  /** Resolves once the agent has shut down. */
  get stopped(): Promise<void> {
    return this.stoppedSignal;
  }

  /** The HTTP address actually bound (the port may have been 0). */
  get httpAddress(): string {
    const address = this.http?.server.address();
    return address && typeof address === 'object' ? `${address.address}:${address.port}` : '';
  }

  async start(): Promise<void> {
    await this.backend.start();
    await registerServer(this.applier, selfNode(this.config, this.nodeId), TRIBUNE_VERSION);
    this.http = buildHttpServer(this.httpContext());
    await this.http.listen({ host: this.config.clientAddr, port: this.config.httpPort });
    this.log.info({ address: this.httpAddress }, 'HTTP API listening');
  }

  /** Leaves the cluster gracefully (a server gives up its Raft membership), then shuts down. */
  async leave(): Promise<void> {
    try {
      await this.backend.leave();
    } catch (err) {
      this.log.warn({ err }, 'leaving the cluster failed; shutting down anyway');
    }
    await this.stop();
  }

  /** Stops listeners and timers. In-memory state goes with the process. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('shutting down');
      this.local.close();
      await this.http?.close();
      await this.backend.stop();
      this.resolveStopped();
    })();
    return this.stopping;
  }

  /** The leader's duties: session TTLs and tombstone reaping run on the leader only. */
  private leadershipChanged(leading: boolean): void {
    this.log.info(leading ? 'cluster leadership acquired' : 'cluster leadership lost');
    if (leading) {
      this.sessionTimers.start();
      this.reaper.start();
    } else {
      this.sessionTimers.stop();
      this.reaper.stop();
    }
  }

  private httpContext(): HttpContext {
    const runtime: AgentRuntime = {
      config: this.config,
      nodeId: this.nodeId,
      version: TRIBUNE_VERSION,
      startedAt: new Date(),
      local: this.local,
      members: () => [this.selfMember()],
      leave: () => {
        this.log.info('graceful leave requested');
        void this.leave();
      },
      afterRestore: async () => {
        // Restored sessions start their TTLs afresh, as after a leader election.
        if (this.backend.cluster.isLeader()) {
          this.sessionTimers.stop();
          this.sessionTimers.start();
        }
        await registerServer(this.applier, selfNode(this.config, this.nodeId), TRIBUNE_VERSION);
        await this.local.resync();
      },
      reload: async () => {
        this.log.info('reload requested: the dev agent has no configuration files to reread');
      },
    };
    return {
      store: this.store,
      applier: this.applier,
      reads: this.backend.reads,
      cluster: this.backend.cluster,
      agent: runtime,
      sessions: this.backend.sessionRenewal(this.sessionTimers),
      metrics: this.metrics,
      log: this.log.child({ name: 'agent.http' }),
    };
  }

  private selfMember(): Member {
    const { config } = this;
    return {
      Name: config.nodeName,
      Addr: selfNode(config, this.nodeId).Address,
      Port: SERF_LAN_PORT,
      Tags: {
        role: 'consul',
        dc: config.datacenter,
        segment: '',
        id: this.nodeId,
        port: String(SERVER_RPC_PORT),
        bootstrap: '1',
        build: `${TRIBUNE_VERSION}:tribune`,
        vsn: '2',
        vsn_min: '2',
        vsn_max: '3',
        raft_vsn: '3',
      },
      Status: 1,
      ProtocolMin: 1,
      ProtocolMax: 5,
      ProtocolCur: 2,
      DelegateMin: 2,
      DelegateMax: 5,
      DelegateCur: 4,
    };
  }
}
