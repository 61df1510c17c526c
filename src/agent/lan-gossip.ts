import type { Logger } from 'pino';
import { bytesToIp, splitHostPort } from '../gossip/address.ts';
import { GossipPool } from '../gossip/pool.ts';
import {
  type PoolKeyring,
  SERF_LAN_KEYRING,
  SERF_WAN_KEYRING,
  setupPoolKeyring,
} from '../gossip/serf/keyring-file.ts';
import { MemberStatus, type SerfEvent, type SerfMember } from '../gossip/serf/types.ts';
import { Keyring } from '../gossip/wire/keyring.ts';
import type { Member } from '../http/context.ts';
import { formatAddress } from '../rpc/transport.ts';
import type { AgentConfig } from './config.ts';
import { advertisedAddress } from './self-registration.ts';
import { TRIBUNE_VERSION } from './version.ts';

// The agent's LAN gossip pool: Consul's member tags, -retry-join (serf LAN addresses, retried until one
// answers), the members as /v1/agent/members shows them, and the servers gossip reveals.

const RETRY_JOIN_INTERVAL_MS = 1_000;
const SERF_LAN_DEFAULT_PORT = 8301;

export class LanGossip {
  readonly pool: GossipPool;
  private stopped = false;

  constructor(
    private readonly config: AgentConfig,
    nodeId: string,
    private readonly log: Logger,
  ) {
    this.pool = new GossipPool({
      name: config.nodeName,
      bindAddr: config.bindAddr,
      bindPort: config.serfLanPort,
      advertiseAddr: advertisedAddress(config),
      tags: consulTags(config, nodeId),
      config: {},
      serf: { reconnectTimeoutMs: config.reconnectTimeoutMs },
      ...poolKeyring(config, 'LAN', log),
      logger: log,
    });
  }

  async start(): Promise<void> {
    await this.pool.start();
    this.log.info({ port: this.pool.port }, 'LAN gossip listening');
    if (this.config.retryJoin.length > 0) void this.retryJoin();
  }

  onEvent(listener: (event: SerfEvent) => void): void {
    this.pool.onEvent(listener);
  }

  /** Consul's join: how many of `addresses` answered. */
  join(addresses: string[]): Promise<number> {
    return this.pool.join(addresses, SERF_LAN_DEFAULT_PORT);
  }

  /** The RPC addresses of the servers gossip knows alive, other than this one. */
  servers(): string[] {
    return this.pool
      .members()
      .filter((m) => m.status === 'alive' && m.tags.role === 'consul' && m.name !== this.config.nodeName)
      .map((m) => formatAddress(bytesToIp(m.addr), Number(m.tags.port ?? 8300)));
  }

  members(): Member[] {
    return this.pool.members().map(memberJson);
  }

  async leave(): Promise<void> {
    this.stopped = true;
    await this.pool.leave();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pool.stop();
  }

  /** Joins through -retry-join until one address answers, as Consul retries at start. */
  private async retryJoin(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      const joined = await this.join(this.config.retryJoin).catch(() => 0);
      if (joined > 0) {
        this.log.info({ joined }, 'joined the LAN pool');
        return;
      }
      if (attempt === 1)
        this.log.info({ addresses: this.config.retryJoin }, 'retry-join: no answer yet, retrying');
      await new Promise((resolve) => setTimeout(resolve, RETRY_JOIN_INTERVAL_MS).unref());
    }
  }
}

/** The -retry-join hosts on the server RPC port, for servers to ask before gossip has found anyone. */
export function retryJoinRpcAddresses(config: AgentConfig): string[] {
  return config.retryJoin.map((address) => formatAddress(splitHostPort(address, 0).host, config.serverPort));
}

/** The tags a Consul agent gossips: servers say where their RPC listens and how they bootstrap. */
export function consulTags(config: AgentConfig, nodeId: string): Record<string, string> {
  const common = {
    dc: config.datacenter,
    segment: '',
    id: nodeId,
    build: `${TRIBUNE_VERSION}:tribune`,
    vsn: '2',
    vsn_min: '2',
    vsn_max: '3',
  };
  if (!config.server) return { role: 'node', ...common };
  return {
    role: 'consul',
    ...common,
    port: String(config.serverPort),
    raft_vsn: '3',
    ...(config.serfWanPort >= 0 ? { wan_join_port: String(config.serfWanPort) } : {}),
    ...(config.bootstrap || config.dev ? { bootstrap: '1' } : {}),
    ...(config.bootstrapExpect > 0 ? { expect: String(config.bootstrapExpect) } : {}),
  };
}

export function memberJson(member: SerfMember): Member {
  const [pmin = 1, pmax = 5, pcur = 2, dmin = 2, dmax = 5, dcur = 4] = member.vsn;
  return {
    Name: member.name,
    Addr: bytesToIp(member.addr),
    Port: member.port,
    Tags: member.tags,
    Status: MemberStatus[member.status],
    ProtocolMin: pmin,
    ProtocolMax: pmax,
    ProtocolCur: pcur,
    DelegateMin: dmin,
    DelegateMax: dmax,
    DelegateCur: dcur,
  };
}

/**
 * A pool's keyring as Consul sets it up: -encrypt's key, or with a data dir the keyring file it starts
 * (serf/local.keyring, serf/remote.keyring), which wins over -encrypt once it exists.
 */
export function poolKeyring(config: AgentConfig, pool: 'LAN' | 'WAN', log: Logger): PoolKeyring {
  if (config.encrypt) gossipKeyring(config.encrypt);
  const file = pool === 'LAN' ? SERF_LAN_KEYRING : SERF_WAN_KEYRING;
  let setup: PoolKeyring;
  try {
    setup = setupPoolKeyring(config.dataDir, file, config.encrypt);
  } catch (err) {
    throw new Error(`Failed to configure keyring: ${(err as Error).message}`);
  }
  if (setup.warning) log.warn({ keyring: pool }, setup.warning);
  const { keyring, keyringFile } = setup;
  return { ...(keyring ? { keyring } : {}), ...(keyringFile ? { keyringFile } : {}) };
}

/** The keyring of -encrypt; a key that is not valid base64 of 16, 24 or 32 bytes stops the agent. */
export function gossipKeyring(encrypt: string): Keyring {
  try {
    return Keyring.fromBase64(encrypt);
  } catch (err) {
    throw new Error(`Invalid encryption key: ${(err as Error).message}`);
  }
}
