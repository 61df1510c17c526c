import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AgentRuntime, HttpContext, Member, ReadGate } from '../http/context.ts';
import { buildHttpServer } from '../http/server.ts';
import { SessionTimers } from '../leader/session-timers.ts';
import { TombstoneReaper } from '../leader/tombstone-reaper.ts';
import { LocalAgent } from '../local/local-agent.ts';
import { SingleNodeLog } from '../state/applier.ts';
import { StateStore } from '../state/store.ts';
import { Metrics } from '../telemetry/metrics.ts';
import type { AgentConfig } from './config.ts';
import { SingleServerCluster } from './dev-cluster.ts';
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
  private readonly applier;

  constructor(
    readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    if (!config.dev) {
      throw new Error('Only the dev agent (-dev) runs so far: servers need Raft and clients need gossip');
    }
    this.nodeId = resolveNodeId(config);
    this.applier = this.metrics.metered(new SingleNodeLog(this.store));
    this.local = new LocalAgent(
      selfNode(config, this.nodeId),
      this.applier,
      log.child({ name: 'agent.local' }),
    );
    this.sessionTimers = new SessionTimers(this.store, this.applier, log.child({ name: 'agent.session' }));
    this.reaper = new TombstoneReaper(this.store, this.applier, log.child({ name: 'agent.tombstones' }));
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
    await registerServer(this.applier, selfNode(this.config, this.nodeId), TRIBUNE_VERSION);
    this.sessionTimers.start();
    this.reaper.start();
    this.http = buildHttpServer(this.httpContext());
    await this.http.listen({ host: this.config.clientAddr, port: this.config.httpPort });
    this.log.info({ address: this.httpAddress }, 'HTTP API listening');
  }

  /** Stops listeners and timers. In-memory state goes with the process. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('shutting down');
      this.sessionTimers.stop();
      this.reaper.stop();
      this.local.close();
      await this.http?.close();
      this.resolveStopped();
    })();
    return this.stopping;
  }

  private httpContext(): HttpContext {
    const rpcAddress = `${selfNode(this.config, this.nodeId).Address}:${SERVER_RPC_PORT}`;
    const cluster = new SingleServerCluster(this.nodeId, rpcAddress, this.store);
    const reads: ReadGate = { prepare: async () => ({ knownLeader: true, lastContactMs: 0 }) };
    const runtime: AgentRuntime = {
      config: this.config,
      nodeId: this.nodeId,
      version: TRIBUNE_VERSION,
      startedAt: new Date(),
      local: this.local,
      members: () => [this.selfMember()],
      leave: () => {
        this.log.info('graceful leave requested');
        void this.stop();
      },
      afterRestore: async () => {
        this.sessionTimers.stop();
        this.sessionTimers.start();
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
      reads,
      cluster,
      agent: runtime,
      sessionTimers: this.sessionTimers,
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
