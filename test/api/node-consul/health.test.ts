import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  answered,
  assertFields,
  assertJsonType,
  assertQueryMeta,
  type Harness,
  healthNode,
  openHarness,
} from './helpers.ts';

// /v1/health through node-consul's health.* against a real dev agent.

interface Check {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
}

interface HealthEntry {
  Node: { Node: string; Address: string; Meta: Record<string, string> };
  Service: { ID: string; Service: string; Tags: string[]; Port: number };
  Checks: Check[];
}

const CHECK_FIELDS = {
  Node: 'string',
  CheckID: 'string',
  Name: 'string',
  Status: 'string',
  Notes: 'string',
  Output: 'string',
  ServiceID: 'string',
  ServiceName: 'string',
  ServiceTags: 'array',
  Type: 'string',
  Definition: 'object',
  CreateIndex: 'number',
  ModifyIndex: 'number',
} as const;

let h: Harness;

/** Registers one `api` instance on its own node, with a service check and optionally a node check. */
async function registerApi(n: number, tags: string[], serviceStatus: string, nodeStatus?: string) {
  await h.consul.catalog.register({
    node: `api-node-${n}`,
    address: `10.0.1.${n}`,
    nodemeta: { zone: `z${n}` },
    service: { id: `api-${n}`, service: 'api', tags, port: 9000 + n },
    checks: [
      {
        checkid: `api-${n}-check`,
        name: 'api check',
        serviceid: `api-${n}`,
        status: serviceStatus as 'passing',
      },
      ...(nodeStatus
        ? [{ checkid: `node-${n}-check`, name: 'node check', status: nodeStatus as 'passing' }]
        : []),
    ],
  });
}

before(async () => {
  h = await openHarness();
  await registerApi(1, ['v1', 'primary'], 'passing');
  await registerApi(2, ['v2'], 'critical');
  // A passing service on a node whose own check warns: not "passing" as a whole.
  await registerApi(3, ['v1'], 'passing', 'warning');
});
after(() => h?.close());

describe('health via node-consul', () => {
  test('node lists the node’s checks in Consul’s check shape, with the query meta', async () => {
    const { res, body } = await answered<Check[]>((o) => healthNode(h.consul, h.node, o));
    assertJsonType(res);
    assertQueryMeta(res);
    const serf = body!.find((c) => c.CheckID === 'serfHealth');
    assert.ok(serf, 'the agent node carries serfHealth');
    assertFields(serf, CHECK_FIELDS);
    assert.equal(serf.Name, 'Serf Health Status');
    assert.equal(serf.Status, 'passing');
    assert.equal(serf.Output, 'Agent alive and reachable');
    assert.deepEqual(serf.ServiceTags, [], 'a node check has ServiceTags [] (not null)');
  });

  test('node of an unknown node is [] with the query meta', async () => {
    const { res, body } = await answered((o) => healthNode(h.consul, 'nobody', o));
    assert.equal(res.statusCode, 200);
    assert.deepEqual(body, []);
    assertQueryMeta(res);
  });

  test('checks lists every check of a service, with its name and tags', async () => {
    const { res, body } = await answered<Check[]>((o) => h.consul.health.checks({ service: 'api', ...o }));
    assertQueryMeta(res);
    assert.deepEqual(body!.map((c) => c.CheckID).sort(), ['api-1-check', 'api-2-check', 'api-3-check']);
    for (const check of body!) {
      assertFields(check, CHECK_FIELDS);
      assert.equal(check.ServiceName, 'api');
    }
    assert.deepEqual(body!.find((c) => c.ServiceID === 'api-1')!.ServiceTags, ['v1', 'primary']);
    assert.deepEqual(await h.consul.health.checks('no-such-service'), []);
  });

  test('service returns {Node, Service, Checks} entries with node checks included', async () => {
    const { res, body } = await answered<HealthEntry[]>((o) =>
      h.consul.health.service({ service: 'api', ...o }),
    );
    assertQueryMeta(res);
    assert.deepEqual(body!.map((e) => e.Service.ID).sort(), ['api-1', 'api-2', 'api-3']);
    for (const entry of body!) {
      assert.deepEqual(Object.keys(entry).sort(), ['Checks', 'Node', 'Service']);
      assertFields(entry.Node, { ID: 'string', Node: 'string', Address: 'string', Datacenter: 'string' });
      assertFields(entry.Service, { ID: 'string', Service: 'string', Tags: 'array', Port: 'number' });
      for (const check of entry.Checks) assertFields(check, CHECK_FIELDS);
    }
    const third = body!.find((e) => e.Service.ID === 'api-3')!;
    assert.equal(third.Node.Node, 'api-node-3');
    assert.equal(third.Node.Address, '10.0.1.3');
    assert.deepEqual(third.Node.Meta, { zone: 'z3' });
    assert.deepEqual(third.Checks.map((c) => c.CheckID).sort(), ['api-3-check', 'node-3-check']);
    assert.deepEqual(await h.consul.health.service('no-such-service'), []);
  });

  test('service with passing drops instances with any non-passing check, node checks included', async () => {
    const passing = (await h.consul.health.service({ service: 'api', passing: true })) as HealthEntry[];
    assert.deepEqual(
      passing.map((e) => e.Service.ID),
      ['api-1'],
    );
  });

  test('service with a tag keeps only the instances carrying it', async () => {
    const v1 = (await h.consul.health.service({ service: 'api', tag: 'v1' })) as HealthEntry[];
    assert.deepEqual(v1.map((e) => e.Service.ID).sort(), ['api-1', 'api-3']);
    const both = (await h.consul.health.service({
      service: 'api',
      tag: 'v1',
      passing: true,
    })) as HealthEntry[];
    assert.deepEqual(
      both.map((e) => e.Service.ID),
      ['api-1'],
    );
  });

  test('state lists the checks in a state; any lists them all', async () => {
    const ids = async (state: 'any' | 'passing' | 'warning' | 'critical') => {
      const { res, body } = await answered<Check[]>((o) => h.consul.health.state({ state, ...o }));
      assertQueryMeta(res);
      for (const check of body!) assertFields(check, CHECK_FIELDS);
      return body!.map((c) => c.CheckID).sort();
    };
    assert.deepEqual(await ids('critical'), ['api-2-check']);
    assert.deepEqual(await ids('warning'), ['node-3-check']);
    assert.deepEqual(await ids('passing'), ['api-1-check', 'api-3-check', 'serfHealth']);
    assert.deepEqual(await ids('any'), [
      'api-1-check',
      'api-2-check',
      'api-3-check',
      'node-3-check',
      'serfHealth',
    ]);
  });

  test('state with a name that is no status matches nothing: [] (Consul does not validate it)', async () => {
    const res = await h.fetch('/health/state/bogus');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), []);
  });

  test('filter applies to node, checks, service and state', async () => {
    const byNode = (await healthNode(h.consul, 'api-node-3', { filter: 'Status == "warning"' })) as Check[];
    assert.deepEqual(
      byNode.map((c) => c.CheckID),
      ['node-3-check'],
    );
    const byService = (await h.consul.health.service({
      service: 'api',
      filter: '"primary" in Service.Tags and Node.Meta.zone == "z1"',
    })) as HealthEntry[];
    assert.deepEqual(
      byService.map((e) => e.Service.ID),
      ['api-1'],
    );
    const checks = (await h.consul.health.checks({
      service: 'api',
      filter: 'Status != "passing"',
    })) as Check[];
    assert.deepEqual(
      checks.map((c) => c.CheckID),
      ['api-2-check'],
    );
    const states = (await h.consul.health.state({ state: 'any', filter: 'ServiceName == "api"' })) as Check[];
    assert.deepEqual(states.map((c) => c.CheckID).sort(), ['api-1-check', 'api-2-check', 'api-3-check']);
  });

  test('a blocking service query wakes on a health change and reports a higher index', async () => {
    const first = await answered<HealthEntry[]>((o) =>
      h.consul.health.service({ service: 'api', passing: true, ...o }),
    );
    const index = assertQueryMeta(first.res);
    const blocked = answered<HealthEntry[]>((o) =>
      h.consul.health.service({ service: 'api', passing: true, index: String(index), wait: '30s', ...o } as {
        service: string;
      }),
    );
    await registerApi(2, ['v2'], 'passing');
    const { res, body } = await blocked;
    assert.ok(assertQueryMeta(res) > index);
    assert.deepEqual(body!.map((e) => e.Service.ID).sort(), ['api-1', 'api-2']);
  });

  test('?pretty indents the JSON by four spaces', async () => {
    const text = await (await h.fetch('/health/service/api?pretty')).text();
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 4)}\n`);
  });
});
