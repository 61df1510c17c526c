import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { startAgentDns } from '../dns/agent-dns.ts';
import type { DnsServer } from '../dns/server.ts';
import { bytesToIp } from '../gossip/address.ts';
import type { SerfMember } from '../gossip/serf/types.ts';
import type { AgentRuntime, HttpContext, KeyringOp, KeyringPoolResponse } from '../http/context.ts';
import { buildHttpServer } from '../http/server.ts';
import { MemberReconciler } from '../leader/member-reconcile.ts';
import { SessionTimers } from '../leader/session-timers.ts';
import { TombstoneReaper } from '../leader/tombstone-reaper.ts';
import { LocalAgent } from '../local/local-agent.ts';
import { formatAddress } from '../rpc/transport.ts';
import { StateStore } from '../state/store.ts';
import { Metrics } from '../telemetry/metrics.ts';
import type { ConsensusBackend } from './backend.ts';
import { ClientBackend } from './client-backend.ts';
import { serveClientDns, serveClients } from './client-forwarding.ts';
import type { AgentConfig } from './config.ts';
import { DevBackend } from './dev-backend.ts';
import { FileDefinitions, type Pending } from './file-definitions.ts';
import { LanGossip, retryJoinRpcAddresses } from './lan-gossip.ts';
import { resolveNodeId } from './node-id.ts';
import { RaftBackend } from './raft-backend.ts';
import { registerServer, rpcAddress, selfNode } from './self-registration.ts';
import {
  CONSUL_EVENT_PREFIX,
  decodeUserEvent,
  EventBuffer,
  encodeUserEvent,
  passesFilters,
} from './user-events.ts';
import { TRIBUNE_VERSION } from './version.ts';
import { WanGossip } from './wan-gossip.ts';
import { AgentWatches } from './watches.ts';

/** Consul's anti-entropy interval for clusters of up to 128 nodes. */
const ANTI_ENTROPY_INTERVAL_MS = 60_000;

/**
 * A running agent: the dev agent (a single in-memory server whose log commits on append) or a Raft server
 * keeping its state under -data-dir.
 */
export class Agent {
  private http: FastifyInstance | undefined;
  private dns: DnsServer | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stoppedSignal: Promise<void>;
  private resolveStopped!: () => void;
  readonly store = new StateStore();
  readonly metrics = new Metrics(this.store);
  readonly nodeId: string;
  private readonly local: LocalAgent;
  private readonly sessionTimers: SessionTimers;
  private readonly reaper: TombstoneReaper;
  private readonly definitions: FileDefinitions;
  private readonly watches: AgentWatches;
  private readonly backend: ConsensusBackend;
  /** Set on client agents, which hand their requests to servers. */
  private readonly client: ClientBackend | undefined;
  private antiEntropy: NodeJS.Timeout | undefined;
  private readonly gossip: LanGossip;
  /** Servers also gossip on the WAN pool. */
  private readonly wan: WanGossip | undefined;
  private readonly reconciler: MemberReconciler;
  private readonly events = new EventBuffer();
  private readonly applier;

  constructor(
    readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    this.nodeId = resolveNodeId(config);
    this.gossip = new LanGossip(config, this.nodeId, log.child({ name: 'agent.gossip' }));
    const seeds = () => [...this.gossip.servers(), ...retryJoinRpcAddresses(config)];
    if (config.dev) this.backend = new DevBackend(this.store, this.nodeId, rpcAddress(config));
    else if (config.server) this.backend = new RaftBackend(config, this.nodeId, this.store, seeds, log);
    else this.backend = this.client = new ClientBackend(() => this.gossip.servers(), log);
    this.applier = this.metrics.metered(this.backend.applier);
    this.local = new LocalAgent(
      selfNode(config, this.nodeId),
      this.applier,
      log.child({ name: 'agent.local' }),
      this.store,
    );
    this.definitions = new FileDefinitions(this.local, config, log.child({ name: 'agent.config' }));
    this.watches = new AgentWatches(log.child({ name: 'agent.watch' }));
    this.sessionTimers = new SessionTimers(this.store, this.applier, log.child({ name: 'agent.session' }));
    this.reaper = new TombstoneReaper(this.store, this.applier, log.child({ name: 'agent.tombstones' }));
    this.reconciler = new MemberReconciler(
      this.store,
      this.applier,
      () => this.gossip.pool.members(),
      log.child({ name: 'leader.members' }),
    );
    this.wan =
      config.server && config.serfWanPort >= 0
        ? new WanGossip(config, this.nodeId, log.child({ name: 'agent.wan' }))
        : undefined;
    this.gossip.onEvent((event) => {
      if (event.type === 'member-join') this.joinWanOf(event.member);
      this.reconciler.handle(event);
      if (event.type === 'user') this.takeUserEvent(event.name, event.payload, event.ltime);
    });
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
    // Bad definitions in config files stop the agent before it starts anything, as in Consul.
    const defined = await this.definitions.read();
    await this.gossip.start();
    await this.wan?.start();
    await this.backend.start();
    // The dev agent leads at once; a server may wait for its peers, and must serve HTTP meanwhile.
    if (this.config.dev) {
      await this.registerSelf();
      await this.definitions.apply(defined);
    } else {
      void this.registerSelfOnceLed().then(() => this.applyDefinitions(defined));
    }
    this.http = buildHttpServer(this.httpContext());
    if (this.config.server)
      serveClients((method, handler) => this.backend.serve(method, handler), this.http, this.applier);
    await this.http.listen({ host: this.config.clientAddr, port: this.config.httpPort });
    this.log.info({ address: this.httpAddress }, 'HTTP API listening');
    // Watches use the agent's own HTTP API, so they start once it listens.
    this.watches.replace(defined.watches, this.httpAddress);
    const client = this.client;
    this.dns = await startAgentDns({
      config: this.config,
      store: this.store,
      reads: this.backend.reads,
      metrics: this.metrics,
      log: this.log.child({ name: 'agent.dns' }),
      ...(client ? { forward: (packet, transport) => client.forwardDns(packet, transport) } : {}),
    });
    const dns = this.dns;
    if (this.config.server && dns) {
      serveClientDns(
        (method, handler) => this.backend.serve(method, handler),
        (packet, transport) => dns.answer(packet, transport),
      );
    }
    this.startAntiEntropy();
  }

  /**
   * Anti-entropy: a full sync of this agent's services and checks to the catalog on Consul's interval (one
   * minute, stretched for clusters over 128 nodes), so what a server lost or a restore dropped comes back.
   */
  private startAntiEntropy(): void {
    const schedule = () => {
      const nodes = this.gossip.pool.members().length;
      const scale = nodes > 128 ? Math.ceil(Math.log2(nodes) - Math.log2(128)) + 1 : 1;
      this.antiEntropy = setTimeout(async () => {
        await this.local
          .resync()
          .catch((err) => this.log.debug({ err }, 'anti-entropy sync failed; retrying later'));
        if (!this.stopping) schedule();
      }, ANTI_ENTROPY_INTERVAL_MS * scale);
      this.antiEntropy.unref();
    };
    schedule();
  }

  /** Rereads the config files: their services and checks brought in line, their watches restarted. */
  async reload(): Promise<void> {
    this.log.info('reload requested: rereading the config files');
    const defined = await this.definitions.read();
    await this.definitions.apply(defined);
    this.watches.replace(defined.watches, this.httpAddress);
  }

  /** Leaves the cluster gracefully (a server gives up its Raft membership), then shuts down. */
  async leave(): Promise<void> {
    try {
      // What Consul's leader does when it sees a member leave: the node and its services go from the catalog.
      if (!this.config.dev) {
        await this.applier.apply({
          type: 'deregister',
          now: Date.now(),
          node: this.config.nodeName,
          serviceId: null,
          checkId: null,
        });
      }
      await this.backend.leave();
      await this.gossip.leave();
      await this.wan?.leave();
    } catch (err) {
      this.log.warn({ err }, 'leaving the cluster failed; shutting down anyway');
    }
    await this.stop();
  }

  /** Stops listeners and timers. In-memory state goes with the process. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('shutting down');
      // Watches go first, so no handler sees the agent's state while it shuts down.
      this.watches.stop();
      clearTimeout(this.antiEntropy);
      this.local.close();
      await this.http?.close();
      await this.dns?.stop();
      await this.gossip.stop();
      await this.wan?.stop();
      await this.backend.stop();
      this.resolveStopped();
    })();
    return this.stopping;
  }

  /** Registers this server in the catalog as soon as the cluster has a leader to take the write. */
  private async registerSelfOnceLed(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.registerSelf();
        return;
      } catch (err) {
        this.log.debug({ err }, 'catalog registration of this server is waiting for a leader');
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  private async applyDefinitions(defined: Pending): Promise<void> {
    try {
      await this.definitions.apply(defined);
    } catch (err) {
      this.log.error({ err }, 'registering the services and checks of the config files failed');
    }
  }

  /** A server that shows up on the LAN is joined on the WAN too, as Consul's servers do. */
  private joinWanOf(member: SerfMember): void {
    const port = member.tags.wan_join_port;
    if (!this.wan || member.tags.role !== 'consul' || member.name === this.config.nodeName || !port) return;
    void this.wan.join([formatAddress(bytesToIp(member.addr), Number(port))]).catch(() => 0);
  }

  /** A Consul user event from gossip, kept when it passes this agent's node and service filters. */
  private takeUserEvent(name: string, payload: Uint8Array, ltime: number): void {
    if (!name.startsWith(CONSUL_EVENT_PREFIX)) return;
    try {
      const event = decodeUserEvent(payload, ltime);
      if (passesFilters(event, this.config.nodeName, this.local.listServices())) this.events.add(event);
    } catch (err) {
      this.log.warn({ err, event: name }, 'dropped a user event that does not decode');
    }
  }

  /** A server registers itself with the "consul" service; a client registers its node (the leader adds serfHealth). */
  private async registerSelf(): Promise<void> {
    const node = selfNode(this.config, this.nodeId);
    if (this.config.server)
      return registerServer(this.applier, node, this.config.serverPort, TRIBUNE_VERSION);
    await this.applier.apply({
      type: 'register',
      now: Date.now(),
      node,
      service: null,
      checks: [],
      skipNodeUpdate: false,
    });
  }

  /** The leader's duties: session TTLs and tombstone reaping run on the leader only. */
  private leadershipChanged(leading: boolean): void {
    this.log.info(leading ? 'cluster leadership acquired' : 'cluster leadership lost');
    if (leading) {
      this.sessionTimers.start();
      this.reaper.start();
      this.reconciler.start();
    } else {
      this.sessionTimers.stop();
      this.reaper.stop();
      this.reconciler.stop();
    }
  }

  /** Consul's Internal.KeyringOperation on a server: the WAN pool first (unless local-only), then the LAN pool. */
  private async keyringOperation(
    op: KeyringOp,
    key: string,
    { relayFactor, localOnly }: { relayFactor: number; localOnly: boolean },
  ): Promise<KeyringPoolResponse[]> {
    if (!this.config.server) throw new Error('keyring operations must run against a server node');
    const pools = [...(this.wan && !localOnly ? [this.wan.pool] : []), this.gossip.pool];
    const out: KeyringPoolResponse[] = [];
    for (const pool of pools) {
      const { response, error } = await pool.keyOperation(op, key, { relayFactor });
      out.push({
        WAN: pool !== this.gossip.pool,
        Datacenter: this.config.datacenter,
        Segment: '',
        Messages: response.messages,
        Keys: response.keys,
        PrimaryKeys: response.primaryKeys,
        NumNodes: response.numNodes,
        Error: error ?? '',
      });
    }
    return out;
  }

  private httpContext(): HttpContext {
    const runtime: AgentRuntime = {
      config: this.config,
      nodeId: this.nodeId,
      version: TRIBUNE_VERSION,
      startedAt: new Date(),
      local: this.local,
      members: (wan) => (wan ? (this.wan?.members() ?? []) : this.gossip.members()),
      join: async (address, wan) => {
        if (!wan) return this.gossip.join([address]);
        if (!this.wan) throw new Error('Must be a server to join WAN cluster');
        return this.wan.join([address]);
      },
      forceLeave: (node, prune) => this.gossip.pool.forceLeave(node, prune),
      fireEvent: (event) => {
        this.gossip.pool.userEvent(CONSUL_EVENT_PREFIX + event.Name, encodeUserEvent(event), false);
      },
      events: this.events,
      gossipEncrypted: () => this.gossip.pool.encrypted,
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
        await this.registerSelf();
        await this.local.resync();
      },
      reload: () => this.reload(),
      keyring: { run: (op, key, options) => this.keyringOperation(op, key, options) },
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
      ...(this.client ? { forward: this.client.forward.bind(this.client) } : {}),
    };
  }
}
