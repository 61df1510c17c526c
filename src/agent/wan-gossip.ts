import type { Logger } from 'pino';
import { defaultWANConfig } from '../gossip/core/config.ts';
import { GossipPool } from '../gossip/pool.ts';
import type { Member } from '../http/context.ts';
import type { AgentConfig } from './config.ts';
import { consulTags, memberJson, poolKeyring } from './lan-gossip.ts';
import { advertisedAddress } from './self-registration.ts';

// The WAN pool: servers only, named <node>.<datacenter>, on memberlist's WAN timings. Servers of a
// datacenter find each other on the LAN and join each other here, as Consul's servers do.

const SERF_WAN_DEFAULT_PORT = 8302;

export class WanGossip {
  readonly pool: GossipPool;

  constructor(config: AgentConfig, nodeId: string, log: Logger) {
    this.pool = new GossipPool({
      name: `${config.nodeName}.${config.datacenter}`,
      bindAddr: config.bindAddr,
      bindPort: config.serfWanPort,
      advertiseAddr: advertisedAddress(config),
      tags: consulTags(config, nodeId),
      config: defaultWANConfig,
      ...poolKeyring(config, 'WAN', log),
      logger: log,
    });
  }

  start(): Promise<void> {
    return this.pool.start();
  }

  join(addresses: string[]): Promise<number> {
    return this.pool.join(addresses, SERF_WAN_DEFAULT_PORT);
  }

  members(): Member[] {
    return this.pool.members().map(memberJson);
  }

  leave(): Promise<void> {
    return this.pool.leave();
  }

  stop(): Promise<void> {
    return this.pool.stop();
  }
}
