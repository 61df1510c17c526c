import { formatAddress } from '../rpc/transport.ts';
import type { Applier } from '../state/applier.ts';
import type { NodeInput } from '../state/commands.ts';
import type { AgentConfig } from './config.ts';

/** The address other agents reach this one at: -advertise, else the bind address (loopback for 0.0.0.0). */
export function advertisedAddress(config: AgentConfig): string {
  if (config.advertiseAddr) return config.advertiseAddr;
  return config.bindAddr === '0.0.0.0' ? '127.0.0.1' : config.bindAddr;
}

/** Where other servers reach this one's RPC listener, `host:port`. */
export function rpcAddress(config: AgentConfig): string {
  const host = advertisedAddress(config);
  return formatAddress(host, config.serverPort);
}

export function selfNode(config: AgentConfig, nodeId: string): NodeInput {
  const address = advertisedAddress(config);
  return {
    ID: nodeId,
    Node: config.nodeName,
    Address: address,
    Datacenter: config.datacenter,
    TaggedAddresses: { lan: address, lan_ipv4: address, wan: address, wan_ipv4: address },
    Meta: { 'consul-network-segment': '', ...config.nodeMeta },
  };
}

/**
 * A server registers itself as Consul's leader does: the node, its serfHealth check (which sessions bind to by
 * default) and the "consul" service that clients look up to find servers.
 */
export async function registerServer(
  applier: Applier,
  node: NodeInput,
  rpcPort: number,
  version: string,
): Promise<void> {
  await applier.apply({
    type: 'register',
    now: Date.now(),
    node,
    service: {
      Kind: '',
      ID: 'consul',
      Service: 'consul',
      Tags: [],
      Address: '',
      TaggedAddresses: {},
      Meta: {
        raft_version: '3',
        serf_protocol_current: '2',
        serf_protocol_max: '5',
        serf_protocol_min: '1',
        version,
      },
      Port: rpcPort,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      Proxy: null,
      Connect: null,
    },
    checks: [
      {
        Node: node.Node,
        CheckID: 'serfHealth',
        Name: 'Serf Health Status',
        Status: 'passing',
        Notes: '',
        Output: 'Agent alive and reachable',
        ServiceID: '',
        Type: '',
        Definition: {},
      },
    ],
    skipNodeUpdate: false,
  });
}
