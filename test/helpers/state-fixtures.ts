import type { NodeInput, ServiceInput } from '../../src/state/commands.ts';

// Catalog rows for tests that write to a StateStore directly: every field Consul has, with its defaults.

export const nodeInput = (name: string, address = '10.0.0.1'): NodeInput => ({
  ID: '',
  Node: name,
  Address: address,
  Datacenter: 'dc1',
  TaggedAddresses: {},
  Meta: {},
});

export const serviceInput = (id: string, name = id, tags: string[] = []): ServiceInput => ({
  Kind: '',
  ID: id,
  Service: name,
  Tags: tags,
  Address: '',
  TaggedAddresses: {},
  Meta: {},
  Port: 80,
  Weights: { Passing: 1, Warning: 1 },
  EnableTagOverride: false,
  Proxy: null,
  Connect: null,
});
