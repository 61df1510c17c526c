import type { Logger } from 'pino';
import type { ClusterView, RaftConfiguration, ReadGate, SessionRenewal } from '../http/context.ts';
import { neverSent } from '../rpc/errors.ts';
import { RpcPool } from '../rpc/pool.ts';
import type { Applier } from '../state/applier.ts';
import { decodeValue, encodeValue } from '../state/codec.ts';
import type { Command } from '../state/commands.ts';
import { StateError } from '../state/errors.ts';
import type { CommandResult } from '../state/fsm.ts';
import { shuffled } from '../util/shuffle.ts';
import type { ConsensusBackend } from './backend.ts';
import {
  type ApplyReply,
  ClientMethod,
  checkForwardedResponse,
  type ForwardedRequest,
  type ForwardedResponse,
} from './client-forwarding.ts';

// A client agent holds no state of its own: it writes its services and checks through a server, and hands
// every non-agent HTTP request to one. Servers come from the LAN pool; one that cannot be reached is
// skipped for the next, as Consul's clients rotate through their server list.

const NO_SERVERS = 'No known Consul servers';
/** A forwarded blocking query may wait up to 10 minutes plus jitter; the call allows for it. */
const FORWARD_TIMEOUT_MS = 11 * 60_000;
const APPLY_TIMEOUT_MS = 30_000;
/** A DNS client gives up after a few seconds; a forwarded query need not outlive that. */
const DNS_TIMEOUT_MS = 5_000;

export class ClientBackend implements ConsensusBackend {
  readonly applier: Applier;
  readonly reads: ReadGate = { prepare: async () => ({ knownLeader: false, lastContactMs: 0 }) };
  readonly cluster: ClusterView;
  private readonly pool: RpcPool;

  constructor(
    private readonly servers: () => string[],
    log: Logger,
  ) {
    this.pool = new RpcPool({ logger: log.child({ name: 'rpc.client' }) });
    this.applier = {
      apply: async <C extends Command>(cmd: C) => {
        const reply = (await this.call(
          ClientMethod.apply,
          { command: encodeValue(cmd) },
          APPLY_TIMEOUT_MS,
        )) as ApplyReply;
        if (!reply.ok) throw new StateError(reply.error);
        return decodeValue(reply.value) as CommandResult<C>;
      },
      restore: async () => {
        throw new Error('a client agent does not restore snapshots: send the request to a server');
      },
    };
    this.cluster = clientClusterView();
  }

  /** Sends an HTTP request to a server and returns its answer. */
  async forward(request: ForwardedRequest): Promise<ForwardedResponse> {
    return checkForwardedResponse(await this.call(ClientMethod.http, request, FORWARD_TIMEOUT_MS));
  }

  /** Hands a DNS message to a server's DNS and returns its reply (undefined: nothing to send). */
  async forwardDns(packet: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const reply = await this.call(
      ClientMethod.dns,
      { packet: new Uint8Array(packet), transport },
      DNS_TIMEOUT_MS,
    );
    return reply instanceof Uint8Array ? Buffer.from(reply) : undefined;
  }

  sessionRenewal(): SessionRenewal {
    // Session endpoints are forwarded to servers whole; nothing renews here.
    return { renew: async () => undefined };
  }

  onLeadership(): void {}

  serve(): void {}

  async start(): Promise<void> {}

  async leave(): Promise<void> {}

  async stop(): Promise<void> {
    this.pool.close();
  }

  private async call(method: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const servers = shuffled(this.servers());
    if (servers.length === 0) throw new Error(NO_SERVERS);
    let lastError: unknown;
    for (const server of servers) {
      try {
        return await this.pool.get(server).call(method, body, { timeoutMs });
      } catch (err) {
        // Only a server never reached is worth trying the next one for: anything else may have happened.
        if (!neverSent(err)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }
}

/** A client takes no part in Raft: it knows no leader or peers of its own. */
function clientClusterView(): ClusterView {
  const serverOnly = async (): Promise<never> => {
    throw new Error('this is a client agent: ask a server');
  };
  return {
    leaderAddress: () => '',
    peerAddresses: () => [],
    isLeader: () => false,
    configuration: serverOnly as () => Promise<RaftConfiguration>,
    removePeer: serverOnly,
    transferLeadership: serverOnly,
  };
}
