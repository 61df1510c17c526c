import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  answered,
  assertConsulError,
  assertFetchError,
  assertFields,
  assertJsonType,
  blockUntil,
  type Harness,
  headersOf,
  healthNode,
  openHarness,
  prometheusValue,
  registerCheck,
  registerService,
} from './helpers.ts';

// /v1/agent through node-consul's agent.* against a real dev agent: services, checks, maintenance, self,
// members, metrics and reload.

interface AgentCheck {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
}

interface HealthEntry {
  Service: { ID: string };
  Checks: AgentCheck[];
}

const NODE_MAINT_DEFAULT =
  'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.';
const SERVICE_MAINT_DEFAULT =
  'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.';

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(() => h?.close());

const agentChecks = async () => (await h.consul.agent.checks()) as Record<string, AgentCheck>;
const agentServices = async () =>
  (await h.consul.agent.services()) as Record<string, Record<string, unknown>>;
const nodeChecks = async () => (await h.consul.health.node(h.node)) as unknown as AgentCheck[];

describe('agent services via node-consul', () => {
  test('register with a TTL Check: the service, its default check, and both in the catalog', async () => {
    const { res } = await answered((o) =>
      registerService(h.consul, {
        name: 'web',
        id: 'web-a',
        tags: ['v1'],
        address: '10.2.0.1',
        port: 8080,
        meta: { team: 'blue' },
        check: { ttl: '30s' },
        ...o,
      }),
    );
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, undefined, 'empty body');

    const service = (await agentServices())['web-a'];
    assertFields(service, {
      ID: 'string',
      Service: 'string',
      Tags: 'array',
      Meta: 'object',
      Port: 'number',
      Address: 'string',
      Weights: 'object',
      EnableTagOverride: 'boolean',
      Datacenter: 'string',
    });
    const { ID, Service, Tags, Meta, Port, Address, Weights, EnableTagOverride, Datacenter } = service!;
    assert.deepEqual(
      { ID, Service, Tags, Meta, Port, Address, Weights, EnableTagOverride, Datacenter },
      {
        ID: 'web-a',
        Service: 'web',
        Tags: ['v1'],
        Meta: { team: 'blue' },
        Port: 8080,
        Address: '10.2.0.1',
        Weights: { Passing: 1, Warning: 1 },
        EnableTagOverride: false,
        Datacenter: 'dc1',
      },
    );

    const check = (await agentChecks())['service:web-a'];
    assert.ok(check, 'the check gets the ID service:<service id>');
    assert.equal(check.Name, "Service 'web' check");
    assert.equal(check.Status, 'critical', 'a new check starts critical');
    assert.equal(check.ServiceID, 'web-a');
    assert.equal(check.ServiceName, 'web');
    assert.deepEqual(check.ServiceTags, ['v1']);
    assert.equal(check.Type, 'ttl');
    assert.equal(check.Node, h.node);

    const instances = (await h.consul.catalog.service.nodes('web')) as { ServiceID: string; Node: string }[];
    assert.deepEqual(
      instances.map((i) => [i.ServiceID, i.Node]),
      [['web-a', h.node]],
    );
    const health = (await h.consul.health.checks('web')) as unknown as AgentCheck[];
    assert.deepEqual(
      health.map((c) => [c.CheckID, c.Status]),
      [['service:web-a', 'critical']],
    );
  });

  test('an IPv4 service address gets default lan_ipv4/wan_ipv4 tagged addresses, also in the catalog', async () => {
    const expected = {
      lan_ipv4: { Address: '10.2.0.1', Port: 8080 },
      wan_ipv4: { Address: '10.2.0.1', Port: 8080 },
    };
    assert.deepEqual((await agentServices())['web-a']!.TaggedAddresses, expected);
    const [instance] = (await h.consul.catalog.service.nodes('web')) as Record<string, unknown>[];
    assert.deepEqual(instance!.ServiceTaggedAddresses, expected);
  });

  test('register with several Checks numbers their IDs; Tags and Meta default to [] and {}', async () => {
    await registerService(h.consul, {
      name: 'worker',
      checks: [{ ttl: '30s' }, { ttl: '60s', status: 'passing', notes: 'second' }],
    });
    const service = (await agentServices()).worker!;
    assert.equal(service.ID, 'worker', 'ID defaults to the name');
    assert.deepEqual(service.Tags, []);
    assert.deepEqual(service.Meta, {});
    const checks = await agentChecks();
    assert.equal(checks['service:worker:1']?.Status, 'critical');
    assert.equal(checks['service:worker:2']?.Status, 'passing');
    assert.equal(checks['service:worker:2']?.Notes, 'second');
  });

  test('deregister removes the service and its checks; an unknown ID is a 404', async () => {
    await registerService(h.consul, { name: 'temp', check: { ttl: '30s' } });
    await h.consul.agent.service.deregister('temp');
    assert.equal((await agentServices()).temp, undefined);
    assert.equal((await agentChecks())['service:temp'], undefined);
    assert.deepEqual(await h.consul.catalog.service.nodes('temp'), []);

    await assertConsulError(
      h.consul.agent.service.deregister('temp'),
      404,
      'Unknown service ID "temp". Ensure that the service ID is passed, not the service name.',
    );
  });

  test('filter selects services and checks', async () => {
    const services = await h.consul.agent.services({ filter: 'Service == "web" and "v1" in Tags' });
    assert.deepEqual(Object.keys(services), ['web-a']);
    const checks = await h.consul.agent.checks({ filter: 'ServiceName == "worker" and Status == "passing"' });
    assert.deepEqual(Object.keys(checks), ['service:worker:2']);
  });

  test('an invalid filter fails with the evaluator error, as a 500 like Consul', async () => {
    await assertConsulError(
      h.consul.agent.checks({ filter: 'Status ==' }),
      500,
      /^Failed to create boolean expression evaluator: /,
    );
  });
});

describe('agent checks via node-consul', () => {
  test('register a TTL check and drive it with pass, warn, fail and update', async () => {
    await registerCheck(h.consul, { name: 'Memory', id: 'mem', ttl: '30s', notes: 'heap watcher' });
    let check = (await agentChecks()).mem!;
    assert.equal(check.Name, 'Memory');
    assert.equal(check.Status, 'critical');
    assert.equal(check.Notes, 'heap watcher');
    assert.equal(check.Type, 'ttl');
    assert.equal(check.ServiceID, '');
    assert.deepEqual(check.ServiceTags, []);

    const statusAfter = async (update: () => Promise<unknown>) => {
      await update();
      check = (await agentChecks()).mem!;
      const inCatalog = (await nodeChecks()).find((c) => c.CheckID === 'mem')!;
      assert.deepEqual([inCatalog.Status, inCatalog.Output], [check.Status, check.Output], 'catalog in sync');
      return [check.Status, check.Output];
    };
    assert.deepEqual(await statusAfter(() => h.consul.agent.check.pass({ id: 'mem', note: 'all fine' })), [
      'passing',
      'all fine',
    ]);
    assert.deepEqual(await statusAfter(() => h.consul.agent.check.warn({ id: 'mem', note: '80%' })), [
      'warning',
      '80%',
    ]);
    assert.deepEqual(await statusAfter(() => h.consul.agent.check.fail('mem')), ['critical', '']);
    // node-consul has no check.update; PUT /v1/agent/check/update/:id takes {Status, Output}.
    const update = () =>
      h.fetch('/agent/check/update/mem', {
        method: 'PUT',
        body: JSON.stringify({ Status: 'passing', Output: 'recovered' }),
      });
    assert.deepEqual(await statusAfter(async () => assert.equal((await update()).status, 200)), [
      'passing',
      'recovered',
    ]);
  });

  test('update with a status that is none of passing/warning/critical is a 400', async () => {
    const res = await h.fetch('/agent/check/update/mem', {
      method: 'PUT',
      body: JSON.stringify({ Status: 'bogus' }),
    });
    await assertFetchError(res, 400, "Invalid check status: 'bogus'");
  });

  test('pass, fail and deregister of an unknown check are 404s', async () => {
    const message = 'Unknown check ID "nope". Ensure that the check ID is passed, not the check name.';
    await assertConsulError(h.consul.agent.check.pass('nope'), 404, message);
    await assertConsulError(h.consul.agent.check.fail('nope'), 404, message);
    await assertConsulError(h.consul.agent.check.deregister('nope'), 404, message);
  });

  test('a check for a service the agent does not have is a 404', async () => {
    await assertConsulError(
      registerCheck(h.consul, { name: 'orphan', ttl: '30s', serviceid: 'ghost' }),
      404,
      'ServiceID "ghost" does not exist',
    );
  });

  test('a TTL check that is not refreshed goes critical, keeping its last output', async () => {
    await registerCheck(h.consul, { name: 'short', id: 'short', ttl: '1s' });
    try {
      await h.consul.agent.check.pass({ id: 'short', note: 'last words' });
      const checks = await blockUntil(
        (q) => answered<AgentCheck[]>((o) => healthNode(h.consul, h.node, { ...q, ...o })),
        (list) => list?.find((c) => c.CheckID === 'short')?.Status === 'critical',
      );
      const expired = checks!.find((c) => c.CheckID === 'short')!;
      assert.equal(expired.Output, 'TTL expired (last output before timeout follows): last words');
    } finally {
      // A critical node check would keep every service on the node from passing.
      await h.consul.agent.check.deregister('short');
    }
  });

  test('deregister removes the check from the agent and the catalog', async () => {
    await h.consul.agent.check.deregister('mem');
    assert.equal((await agentChecks()).mem, undefined);
    assert.equal(
      (await nodeChecks()).some((c) => c.CheckID === 'mem'),
      false,
    );
  });
});

describe('maintenance via node-consul', () => {
  before(async () => {
    await registerService(h.consul, { name: 'maint-svc', check: { ttl: '30s', status: 'passing' } });
  });

  const passingMaintSvc = async () =>
    ((await h.consul.health.service({ service: 'maint-svc', passing: true })) as HealthEntry[]).length;

  test('node maintenance adds a critical _node_maintenance check until disabled', async () => {
    assert.equal(await passingMaintSvc(), 1);
    await h.consul.agent.maintenance({ enable: true, reason: 'kernel upgrade' });
    const check = (await nodeChecks()).find((c) => c.CheckID === '_node_maintenance');
    assert.ok(check);
    assert.equal(check.Name, 'Node Maintenance Mode');
    assert.equal(check.Status, 'critical');
    assert.equal(check.Notes, 'kernel upgrade');
    assert.equal(check.ServiceID, '');
    assert.equal(await passingMaintSvc(), 0, 'every service on the node stops passing');

    await h.consul.agent.maintenance(false);
    assert.equal(
      (await nodeChecks()).some((c) => c.CheckID === '_node_maintenance'),
      false,
    );
    assert.equal(await passingMaintSvc(), 1);
  });

  test('node maintenance without a reason uses Consul’s default note', async () => {
    await h.consul.agent.maintenance(true);
    try {
      const check = (await agentChecks())._node_maintenance;
      assert.equal(check?.Notes, NODE_MAINT_DEFAULT);
    } finally {
      await h.consul.agent.maintenance(false);
    }
  });

  test('service maintenance adds a critical _service_maintenance:<id> check until disabled', async () => {
    await h.consul.agent.service.maintenance({ id: 'maint-svc', enable: true });
    const check = (await agentChecks())['_service_maintenance:maint-svc'];
    assert.ok(check);
    assert.equal(check.Name, 'Service Maintenance Mode');
    assert.equal(check.Status, 'critical');
    assert.equal(check.Notes, SERVICE_MAINT_DEFAULT);
    assert.equal(check.ServiceID, 'maint-svc');
    assert.equal(check.ServiceName, 'maint-svc');
    assert.equal(await passingMaintSvc(), 0);

    await h.consul.agent.service.maintenance({ id: 'maint-svc', enable: false, reason: 'ignored' });
    assert.equal((await agentChecks())['_service_maintenance:maint-svc'], undefined);
    assert.equal(await passingMaintSvc(), 1);
  });

  test('service maintenance of an unknown service is a 404', async () => {
    await assertConsulError(
      h.consul.agent.service.maintenance({ id: 'ghost', enable: true }),
      404,
      'Unknown service ID "ghost". Ensure that the service ID is passed, not the service name.',
    );
  });

  test('enable is required and parsed as a Go boolean', async () => {
    const put = (query: string) => h.fetch(`/agent/maintenance${query}`, { method: 'PUT' });
    await assertFetchError(await put(''), 400, 'Missing value for enable');
    await assertFetchError(await put('?enable=maybe'), 400, 'Invalid value for enable: "maybe"');
    assert.equal((await put('?enable=1')).status, 200);
    assert.ok((await agentChecks())._node_maintenance);
    assert.equal((await put('?enable=F')).status, 200);
    assert.equal((await agentChecks())._node_maintenance, undefined);
  });
});

describe('agent self, members, metrics and reload via node-consul', () => {
  test('self describes the agent', async () => {
    const { res, body } = await answered<Record<string, Record<string, unknown>>>((o) =>
      h.consul.agent.self({ ...o }),
    );
    assertJsonType(res);
    assertFields(body, {
      Config: 'object',
      Coord: 'object',
      Member: 'object',
      Stats: 'object',
      Meta: 'object',
    });
    const config = body!.Config!;
    assert.equal(config.Datacenter, 'dc1');
    assert.equal(config.NodeName, h.node);
    assert.equal(config.Server, true);
    assert.match(String(config.NodeID), /^[0-9a-f-]{36}$/);
    assert.match(String(config.Version), /^\d+\.\d+\.\d+/);
    assert.equal(body!.Member!.Name, h.node);
    assert.equal(body!.Member!.Addr, h.agent.host);
  });

  test('members lists this agent as an alive server', async () => {
    const members = (await h.consul.agent.members()) as Record<string, unknown>[];
    assert.equal(members.length, 1);
    const [member] = members;
    assertFields(member, {
      Name: 'string',
      Addr: 'string',
      Port: 'number',
      Tags: 'object',
      Status: 'number',
      ProtocolMin: 'number',
      ProtocolMax: 'number',
      ProtocolCur: 'number',
      DelegateMin: 'number',
      DelegateMax: 'number',
      DelegateCur: 'number',
    });
    assert.equal(member!.Name, h.node);
    assert.equal(member!.Addr, h.agent.host);
    assert.equal(member!.Status, 1, 'alive');
    const tags = member!.Tags as Record<string, string>;
    assert.equal(tags.role, 'consul');
    assert.equal(tags.dc, 'dc1');
  });

  interface JsonMetrics {
    Timestamp: string;
    Gauges: { Name: string; Value: number; Labels: Record<string, string> }[];
    Points: unknown[];
    Counters: Record<string, unknown>[];
    Samples: { Name: string; Labels: Record<string, string> }[];
  }

  const jsonMetrics = async (): Promise<JsonMetrics> => {
    await h.consul.kv.set('metrics/probe', 'x');
    const res = await h.fetch('/agent/metrics');
    assertJsonType(headersOf(res));
    return (await res.json()) as JsonMetrics;
  };

  test('metrics as JSON: the go-metrics envelope with a Go-formatted UTC Timestamp', async () => {
    const metrics = await jsonMetrics();
    assertFields(metrics, {
      Timestamp: 'string',
      Gauges: 'array',
      Points: 'array',
      Counters: 'array',
      Samples: 'array',
    });
    assert.match(
      metrics.Timestamp,
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000 UTC$/,
      'Go time.String() of UTC',
    );
  });

  test('metrics as JSON: every gauge is {Name, Value, Labels} with a numeric Value', async () => {
    const metrics = await jsonMetrics();
    assert.ok(metrics.Gauges.length > 0);
    for (const gauge of metrics.Gauges)
      assertFields(gauge, { Name: 'string', Value: 'number', Labels: 'object' });
  });

  test('metrics as JSON: counters and samples carry go-metrics’ aggregate fields', async () => {
    const metrics = await jsonMetrics();
    assert.ok(metrics.Counters.length > 0 && metrics.Samples.length > 0);
    const aggregate = {
      Name: 'string',
      Count: 'number',
      Rate: 'number',
      Sum: 'number',
      Min: 'number',
      Max: 'number',
      Mean: 'number',
      Stddev: 'number',
      Labels: 'object',
    } as const;
    for (const entry of [...metrics.Counters, ...metrics.Samples]) assertFields(entry, aggregate);
  });

  test('metrics as JSON: Consul’s dotted names keep their underscores', async () => {
    const metrics = await jsonMetrics();
    const names = metrics.Gauges.map((g) => g.Name).filter((name) => name.startsWith('consul.runtime'));
    const alloc = metrics.Gauges.find((g) => g.Name === 'consul.runtime.alloc_bytes');
    assert.ok(alloc, `consul.runtime.alloc_bytes among ${names.join(', ')}`);
    assert.ok(alloc.Value > 0);
    assert.ok(metrics.Samples.some((s) => s.Name === 'consul.kvs.apply'));
  });

  test('metrics as JSON: HTTP timings are kept per method and path label', async () => {
    const metrics = await jsonMetrics();
    const http = metrics.Samples.filter((s) => s.Name === 'consul.api.http');
    assert.ok(
      http.some((s) => s.Labels.method === 'PUT' && s.Labels.path === 'v1_kv_'),
      `consul.api.http samples: ${JSON.stringify(http)}`,
    );
  });

  test('metrics in Prometheus exposition format', async () => {
    await h.consul.kv.set('metrics/probe', 'y');
    const res = await h.fetch('/agent/metrics?format=prometheus');
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^# TYPE consul_runtime_alloc_bytes gauge$/m);
    assert.ok(prometheusValue(text, 'consul_runtime_alloc_bytes') > 0);
    assert.match(text, /^# TYPE consul_api_http summary$/m);
    assert.ok(prometheusValue(text, 'consul_api_http_count', { method: 'PUT', path: 'v1_kv_' }) >= 2);
    assert.ok(prometheusValue(text, 'consul_kvs_apply_count') >= 2);
  });

  test('reload answers 200 with an empty body and the agent keeps serving', async () => {
    const { res } = await answered((o) => h.consul.agent.reload({ ...o }));
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, undefined);
    assert.equal(((await h.consul.agent.self()) as { Config: { NodeName: string } }).Config.NodeName, h.node);
  });

  test('?pretty indents the JSON by four spaces', async () => {
    const text = await (await h.fetch('/agent/self?pretty')).text();
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 4)}\n`);
    assert.match(text, /^\{\n {4}"/);
  });
});
