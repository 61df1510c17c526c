import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  answered,
  assertFetchError,
  assertFields,
  assertJsonType,
  assertQueryMeta,
  type Harness,
  openHarness,
  registerService,
  wireBody,
} from './helpers.ts';

// /v1/catalog through node-consul's catalog.* against a real dev agent.

interface CatalogNode {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string>;
  Meta: Record<string, string>;
}

interface ServiceNode {
  Node: string;
  Address: string;
  ServiceKind: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  ServiceAddress: string;
  ServicePort: number;
  ServiceMeta: Record<string, string>;
  ServiceProxy: { DestinationServiceName?: string };
  ServiceConnect: { Native?: boolean };
}

const SERVICE_NODE_FIELDS = {
  ID: 'string',
  Node: 'string',
  Address: 'string',
  Datacenter: 'string',
  TaggedAddresses: ['object', 'null'],
  NodeMeta: ['object', 'null'],
  ServiceKind: 'string',
  ServiceID: 'string',
  ServiceName: 'string',
  ServiceTags: 'array',
  ServiceAddress: 'string',
  ServiceWeights: 'object',
  ServiceMeta: 'object',
  ServicePort: 'number',
  ServiceEnableTagOverride: 'boolean',
  ServiceProxy: 'object',
  ServiceConnect: 'object',
  CreateIndex: 'number',
  ModifyIndex: 'number',
} as const;

let h: Harness;
before(async () => {
  h = await openHarness();
  // Two web instances on external nodes, in different racks and with different tags.
  for (const [n, rack, tags, port] of [
    [1, 'r1', ['v1', 'blue'], 8080],
    [2, 'r2', ['v2', 'green'], 8081],
  ] as const) {
    await h.consul.catalog.register({
      node: `web-node-${n}`,
      address: `10.0.0.${n}`,
      nodemeta: { rack },
      service: { id: `web-${n}`, service: 'web', tags: [...tags], port, meta: { build: `b${n}` } },
      check: { checkid: `web-${n}-alive`, name: 'web alive', serviceid: `web-${n}`, status: 'passing' },
    });
  }
});
after(() => h?.close());

describe('catalog via node-consul', () => {
  test('datacenters lists the agent datacenter', async () => {
    assert.deepEqual(await h.consul.catalog.datacenters(), ['dc1']);
  });

  test('register answers true and creates the node, its service and its check', async () => {
    const { res } = await answered((o) =>
      h.consul.catalog.register({
        node: 'reg-node',
        address: '10.9.9.9',
        service: { service: 'reg-svc', port: 9000 },
        check: { name: 'reg check' },
        ...o,
      }),
    );
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, true);

    const entry = (await wireBody<{ Node: CatalogNode; Services: Record<string, unknown> }>((o) =>
      h.consul.catalog.node.services({ node: 'reg-node', ...o }),
    ))!;
    assert.equal(entry.Node.Address, '10.9.9.9');
    assert.deepEqual(Object.keys(entry.Services), ['reg-svc'], 'service ID defaults to its name');
    const checks = (await h.consul.health.node('reg-node')) as { CheckID: string; Status: string }[];
    assert.deepEqual(
      checks.map((c) => [c.CheckID, c.Status]),
      [['reg check', 'critical']],
      'a check without ID or status gets its name as ID and starts critical',
    );
  });

  test('nodes lists every node with Consul’s fields and the query meta', async () => {
    const { res, body } = await answered<CatalogNode[]>((o) => h.consul.catalog.nodes({ ...o }));
    assertJsonType(res);
    assertQueryMeta(res);
    const names = body!.map((n) => n.Node);
    for (const name of [h.node, 'web-node-1', 'web-node-2'])
      assert.ok(names.includes(name), `${name} in ${names}`);
    for (const node of body!) {
      assertFields(node, {
        ID: 'string',
        Node: 'string',
        Address: 'string',
        Datacenter: 'string',
        TaggedAddresses: ['object', 'null'],
        Meta: ['object', 'null'],
        CreateIndex: 'number',
        ModifyIndex: 'number',
      });
    }
    const self = body!.find((n) => n.Node === h.node)!;
    assert.equal(self.Address, h.agent.host);
    assert.equal(self.Datacenter, 'dc1');
    assert.match(self.ID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(body!.find((n) => n.Node === 'web-node-2')!.Meta, { rack: 'r2' });
  });

  test('services maps each service name to the union of its tags', async () => {
    const { res, body } = await answered<Record<string, string[]>>((o) =>
      h.consul.catalog.services({ ...o }),
    );
    assertQueryMeta(res);
    assert.deepEqual([...body!.web!].sort(), ['blue', 'green', 'v1', 'v2']);
    assert.deepEqual(body!.consul, [], 'a service without tags has [] (not null)');
  });

  test('service lists its instances in the flattened ServiceNode shape', async () => {
    const { res, body } = await answered<ServiceNode[]>((o) =>
      h.consul.catalog.service.nodes({ service: 'web', ...o }),
    );
    assertQueryMeta(res);
    assert.equal(body!.length, 2);
    for (const entry of body!) assertFields(entry, SERVICE_NODE_FIELDS);
    const first = body!.find((e) => e.ServiceID === 'web-1')!;
    assert.equal(first.Node, 'web-node-1');
    assert.equal(first.Address, '10.0.0.1');
    assert.equal(first.ServiceName, 'web');
    assert.equal(first.ServicePort, 8080);
    assert.equal(first.ServiceAddress, '');
    assert.deepEqual(first.ServiceMeta, { build: 'b1' });
    assert.equal(first.ServiceKind, '');
  });

  test('service with a tag keeps only the instances carrying it', async () => {
    const tagged = (await h.consul.catalog.service.nodes({ service: 'web', tag: 'v2' })) as ServiceNode[];
    assert.deepEqual(
      tagged.map((e) => e.ServiceID),
      ['web-2'],
    );
    assert.deepEqual(await h.consul.catalog.service.nodes({ service: 'web', tag: 'v3' }), []);
  });

  test('an unknown service is [] with the query meta', async () => {
    const { res, body } = await answered((o) => h.consul.catalog.service.nodes({ service: 'nope', ...o }));
    assert.equal(res.statusCode, 200);
    assert.deepEqual(body, []);
    assertQueryMeta(res);
  });

  test('node returns the node and its services keyed by ID', async () => {
    const { res, body } = await answered<{
      Node: CatalogNode;
      Services: Record<string, Record<string, unknown>>;
    }>((o) => h.consul.catalog.node.services({ node: 'web-node-1', ...o }));
    assertQueryMeta(res);
    assert.equal(body!.Node.Node, 'web-node-1');
    assert.deepEqual(Object.keys(body!.Services), ['web-1']);
    assertFields(body!.Services['web-1'], {
      ID: 'string',
      Service: 'string',
      Tags: 'array',
      Address: 'string',
      Meta: 'object',
      Port: 'number',
      Weights: 'object',
      EnableTagOverride: 'boolean',
      CreateIndex: 'number',
      ModifyIndex: 'number',
    });
    assert.deepEqual(body!.Services['web-1']!.Tags, ['v1', 'blue']);
  });

  test('node of an unknown node answers null with the query meta', async () => {
    const { res } = await answered((o) => h.consul.catalog.node.services({ node: 'no-such-node', ...o }));
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, null);
    assertQueryMeta(res);
  });

  test('connect lists Connect-native instances and the proxies of a service', async () => {
    await registerService(h.consul, { name: 'native-svc', port: 7000, connect: { native: true } });
    const proxy = await h.fetch('/catalog/register', {
      method: 'PUT',
      body: JSON.stringify({
        Node: 'web-node-1',
        Address: '10.0.0.1',
        Service: {
          Kind: 'connect-proxy',
          ID: 'web-1-sidecar-proxy',
          Service: 'web-sidecar-proxy',
          Port: 21000,
          Proxy: { DestinationServiceName: 'web', DestinationServiceID: 'web-1', LocalServicePort: 8080 },
        },
      }),
    });
    assert.equal(proxy.status, 200);

    const { res, body } = await answered<ServiceNode[]>((o) =>
      h.consul.catalog.connect.nodes({ service: 'web', ...o }),
    );
    assertQueryMeta(res);
    assert.deepEqual(
      body!.map((e) => [e.ServiceID, e.ServiceKind, e.ServiceProxy.DestinationServiceName]),
      [['web-1-sidecar-proxy', 'connect-proxy', 'web']],
    );
    const native = (await h.consul.catalog.connect.nodes('native-svc')) as ServiceNode[];
    assert.equal(native.length, 1);
    assert.equal(native[0]!.Node, h.node);
    assert.equal(native[0]!.ServiceConnect.Native, true);
    assert.deepEqual(await h.consul.catalog.connect.nodes('reg-svc'), [], 'no Connect instances: []');
  });

  test('filter applies to nodes, service instances and the service list', async () => {
    const nodes = (await h.consul.catalog.nodes({ filter: 'Meta.rack == "r2"' })) as CatalogNode[];
    assert.deepEqual(
      nodes.map((n) => n.Node),
      ['web-node-2'],
    );
    const instances = (await h.consul.catalog.service.nodes({
      service: 'web',
      filter: 'ServicePort == 8080 and "blue" in ServiceTags',
    })) as ServiceNode[];
    assert.deepEqual(
      instances.map((e) => e.ServiceID),
      ['web-1'],
    );
    const services = (await h.consul.catalog.services({ filter: 'ServiceMeta.build == "b2"' })) as Record<
      string,
      string[]
    >;
    assert.deepEqual(Object.keys(services), ['web']);
    assert.deepEqual([...services.web!].sort(), ['green', 'v2'], 'tags of the matching instances only');
  });

  test('?pretty indents the JSON by four spaces and ends it with a newline', async () => {
    const res = await h.fetch('/catalog/nodes?pretty');
    const text = await res.text();
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 4)}\n`);
    assert.match(text, /^\[\n {4}\{\n {8}"ID": /);
  });

  test('deregister removes a check, a service, then the whole node', async () => {
    await h.consul.catalog.register({
      node: 'doomed',
      address: '10.7.7.7',
      service: { id: 'doomed-svc', service: 'doomed' },
      checks: [
        { checkid: 'node-check', name: 'node check', status: 'passing' },
        { checkid: 'svc-check', name: 'svc check', serviceid: 'doomed-svc', status: 'passing' },
      ],
    });
    const checkIds = async () =>
      ((await h.consul.health.node('doomed')) as { CheckID: string }[]).map((c) => c.CheckID);
    assert.deepEqual((await checkIds()).sort(), ['node-check', 'svc-check']);

    const { res } = await answered((o) =>
      h.consul.catalog.deregister({ node: 'doomed', checkid: 'node-check', ...o }),
    );
    assert.equal(res.body, true);
    assert.deepEqual(await checkIds(), ['svc-check']);

    await h.consul.catalog.deregister({ node: 'doomed', serviceid: 'doomed-svc' });
    assert.deepEqual(await h.consul.catalog.service.nodes('doomed'), []);
    assert.deepEqual(await checkIds(), [], "the service's checks go with it");

    await h.consul.catalog.deregister('doomed');
    const nodes = (await h.consul.catalog.nodes({})) as CatalogNode[];
    assert.equal(
      nodes.some((n) => n.Node === 'doomed'),
      false,
    );
  });

  test('register without an address is refused with the RPC error (a 500, as Consul answers it)', async () => {
    const res = await h.fetch('/catalog/register', {
      method: 'PUT',
      body: JSON.stringify({ Node: 'no-address' }),
    });
    await assertFetchError(res, 500, 'Must provide address if SkipNodeUpdate is not set');
  });
});
