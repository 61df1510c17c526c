import type { Applier } from '../state/applier.ts';
import type { NodeInput } from '../state/commands.ts';
import type { AgentConfig } from './config.ts';

/** Consul's LAN/WAN gossip and server RPC ports, advertised in member tags and the "consul" service. */
export const SERF_LAN_PORT = 8301;
export const SERVER_RPC_PORT = 8300;

export function selfNode(config: AgentConfig, nodeId: string): NodeInput {
  const address = config.bindAddr === '0.0.0.0' ? '127.0.0.1' : config.bindAddr;
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
export async function registerServer(applier: Applier, node: NodeInput, version: string): Promise<void> {
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
      Port: SERVER_RPC_PORT,
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
