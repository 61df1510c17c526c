import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';

// gRPC and alias checks run by a real dev agent: a grpc.health.v1 server in this process flips its serving
// status, and alias checks follow TTL checks the test drives, catalog writes, and services coming and going.

let agent: DevAgent;
before(async () => {
  agent = await startDevAgent();
});
after(() => agent.stop());

interface Check {
  CheckID: string;
  Name: string;
  Status: string;
  Output: string;
  Type: string;
  Interval: string;
  Definition: Record<string, unknown>;
}

const checkOf = async (id: string) =>
  (await api(agent.httpAddr, 'GET', '/v1/agent/checks')).json<Record<string, Check>>()[id];

const becomes = (id: string, status: string, output?: string | RegExp) =>
  eventually(
    `${id} to become ${status}${output ? ` with ${output}` : ''}`,
    async () => {
      const check = await checkOf(id);
      if (check?.Status !== status) return undefined;
      if (typeof output === 'string' && check.Output !== output) return undefined;
      if (output instanceof RegExp && !output.test(check.Output)) return undefined;
      return check;
    },
    15_000,
  );

async function put(path: string, body: object): Promise<void> {
  const response = await api(agent.httpAddr, 'PUT', path, body);
  assert.equal(response.status, 200, `${path}: ${response.text}`);
}

/**
 * Checks registered without a ServiceID are node checks, and a node's checks count towards every alias of a
 * service on it (as in Consul): each test removes the node checks it made, so later aliases see a healthy node.
 */
async function removeChecks(...ids: string[]): Promise<void> {
  for (const id of ids) await api(agent.httpAddr, 'PUT', `/v1/agent/check/deregister/${id}`);
}

const SERVING = 1;
const NOT_SERVING = 2;

/** A grpc.health.v1.Health server answering from `statuses` by service name (NOT_FOUND for others). */
async function healthServer(statuses: Map<string, number>): Promise<{ port: number; server: Server }> {
  const server = new Server();
  server.register(
    '/grpc.health.v1.Health/Check',
    (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      // HealthCheckRequest is empty or field 1 holding a short name: tag, length, bytes.
      const service = call.request.length > 2 ? call.request.subarray(2).toString('utf8') : '';
      const status = statuses.get(service);
      if (status === undefined) return callback({ code: 5, details: 'unknown service' });
      callback(null, Buffer.from([0x08, status]));
    },
    (response: Buffer) => response,
    (request: Buffer) => request,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${agent.host}:0`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return { port, server };
}

describe('gRPC checks', () => {
  test('a service check follows the health server: SERVING passing, NOT_SERVING critical, and back', async () => {
    const statuses = new Map([['billing', SERVING]]);
    const { port, server } = await healthServer(statuses);
    try {
      const target = `${agent.host}:${port}/billing`;
      // Keys in any case, as Consul's decoder takes them.
      await put('/v1/agent/service/register', {
        name: 'billing',
        port,
        check: { grpc: target, grpc_use_tls: false, interval: '1s', timeout: '2s' },
      });
      const passing = await becomes('service:billing', 'passing', `gRPC check ${target}: success`);
      assert.equal(passing.Type, 'grpc');
      assert.equal(passing.Interval, '1s');
      assert.deepEqual(passing.Definition, { Interval: '1s', Timeout: '2s', GRPC: target });

      statuses.set('billing', NOT_SERVING);
      await becomes('service:billing', 'critical', `gRPC ${target} serving status: NOT_SERVING`);
      const health = await api(agent.httpAddr, 'GET', '/v1/health/service/billing?passing');
      assert.deepEqual(health.json(), [], 'a critical instance is filtered by ?passing');

      statuses.set('billing', SERVING);
      await becomes('service:billing', 'passing', `gRPC check ${target}: success`);

      statuses.delete('billing');
      await becomes('service:billing', 'critical', 'rpc error: code = NotFound desc = unknown service');
    } finally {
      server.forceShutdown();
    }
  });

  test('a target that goes down is critical with the dial error; TLS settings show in the definition', async () => {
    const { port, server } = await healthServer(new Map([['', SERVING]]));
    const { port: plainPort, server: plain } = await healthServer(new Map([['', SERVING]]));
    try {
      const target = `${agent.host}:${port}`;
      await put('/v1/agent/check/register', {
        Name: 'grpc-down',
        GRPC: target,
        Interval: '1s',
        Timeout: '1s',
      });
      await becomes('grpc-down', 'passing', `gRPC check ${target}: success`);
      server.forceShutdown();
      const critical = await becomes('grpc-down', 'critical');
      assert.match(critical.Output, /^rpc error: code = (Unavailable|DeadlineExceeded) desc = /);
      assert.match(critical.Output, /ECONNREFUSED|deadline/);

      // TLS towards a plaintext server: the handshake fails, and the definition records the TLS fields.
      await put('/v1/agent/check/register', {
        Name: 'grpc-tls',
        GRPC: `${agent.host}:${plainPort}`,
        GRPCUseTLS: true,
        TLSSkipVerify: true,
        TLSServerName: 'health.test',
        Interval: '1s',
        Timeout: '2s',
      });
      const tls = await becomes('grpc-tls', 'critical', /^rpc error: code = /);
      assert.equal(tls.Definition.GRPCUseTLS, true);
      assert.equal(tls.Definition.TLSSkipVerify, true);
      assert.equal(tls.Definition.TLSServerName, 'health.test');
    } finally {
      server.forceShutdown();
      plain.forceShutdown();
      await removeChecks('grpc-down', 'grpc-tls');
    }
  });
});

describe('alias checks', () => {
  test('an alias follows a TTL check on another service: passing, warning, critical', async () => {
    await put('/v1/agent/service/register', { Name: 'backend', Port: 7000, Check: { TTL: '60s' } });
    await put('/v1/agent/service/register', {
      Name: 'frontend',
      Port: 7001,
      Checks: [{ AliasService: 'backend' }],
    });
    const ttlName = "Service 'backend' check";
    const first = await becomes('service:frontend', 'critical', `Aliased check "${ttlName}" failing: `);
    assert.equal(first.Type, 'alias');
    assert.equal(first.Interval, '');
    assert.deepEqual(first.Definition, { AliasService: 'backend' });

    await put('/v1/agent/check/pass/service:backend?note=ok', {});
    await becomes('service:frontend', 'passing', 'All checks passing.');
    await put('/v1/agent/check/warn/service:backend?note=slow', {});
    await becomes('service:frontend', 'warning', `Aliased check "${ttlName}" failing: slow`);
    await put('/v1/agent/check/fail/service:backend?note=down', {});
    await becomes('service:frontend', 'critical', `Aliased check "${ttlName}" failing: down`);

    // The catalog sees the alias's status too: health filters the aliasing instance.
    const health = await api(agent.httpAddr, 'GET', '/v1/health/service/frontend?passing');
    assert.deepEqual(health.json(), []);
    await put('/v1/agent/check/pass/service:backend', {});
    await becomes('service:frontend', 'passing', 'All checks passing.');
  });

  test('an alias of a missing service is critical until the service appears, and again when it goes', async () => {
    try {
      await put('/v1/agent/check/register', { name: 'ghost-alias', alias_service: 'ghost' });
      await becomes('ghost-alias', 'critical', 'Service ghost could not be found on node ');
      await put('/v1/agent/service/register', { Name: 'ghost', Port: 7002 });
      await becomes('ghost-alias', 'passing');
      const deregistered = await api(agent.httpAddr, 'PUT', '/v1/agent/service/deregister/ghost');
      assert.equal(deregistered.status, 200);
      await becomes('ghost-alias', 'critical', 'Service ghost could not be found on node ');
    } finally {
      await removeChecks('ghost-alias');
    }
  });

  test('AliasNode follows a service on another node through catalog writes', async () => {
    const registerDb = (Status: string, Output: string) =>
      put('/v1/catalog/register', {
        Node: 'external-db',
        Address: '10.9.8.7',
        Service: { ID: 'pg', Service: 'postgres', Port: 5432 },
        Check: { CheckID: 'pg-up', Name: 'pg up', ServiceID: 'pg', Status, Output },
      });
    try {
      await put('/v1/agent/check/register', {
        Name: 'db-alias',
        AliasNode: 'external-db',
        AliasService: 'pg',
      });
      await becomes('db-alias', 'critical', 'Service pg could not be found on node external-db');
      await registerDb('passing', 'fine');
      const passing = await becomes('db-alias', 'passing', 'All checks passing.');
      assert.deepEqual(passing.Definition, { AliasNode: 'external-db', AliasService: 'pg' });
      await registerDb('warning', 'replication lag');
      await becomes('db-alias', 'warning', 'Aliased check "pg up" failing: replication lag');
      await put('/v1/catalog/deregister', { Node: 'external-db' });
      await becomes('db-alias', 'critical', 'Service pg could not be found on node external-db');
    } finally {
      await removeChecks('db-alias');
    }
  });

  test('a failing node check makes an alias of any service on the node critical, as in Consul', async () => {
    await put('/v1/agent/check/pass/service:backend', {});
    await becomes('service:frontend', 'passing', 'All checks passing.');
    try {
      await put('/v1/agent/check/register', { Name: 'disk', TTL: '60s', Status: 'warning' });
      await becomes('service:frontend', 'warning', 'Aliased check "disk" failing: ');
    } finally {
      await removeChecks('disk');
    }
    await becomes('service:frontend', 'passing', 'All checks passing.');
  });

  test('removing an alias check stops it', async () => {
    await put('/v1/agent/check/pass/service:backend', {});
    await put('/v1/agent/check/register', { Name: 'short-lived', AliasService: 'backend' });
    await becomes('short-lived', 'passing');
    await put('/v1/agent/check/deregister/short-lived', {});
    assert.equal(await checkOf('short-lived'), undefined);
    // A later change of the aliased service must not bring the check back into the catalog.
    await put('/v1/agent/check/fail/service:backend', {});
    await becomes('service:frontend', 'critical');
    const catalog = await api(agent.httpAddr, 'GET', '/v1/health/checks/backend');
    assert.ok(catalog.json<Check[]>().every((c) => c.CheckID !== 'short-lived'));
    const nodeChecks = await api(agent.httpAddr, 'GET', `/v1/health/node/test-${agent.host}`);
    assert.ok(nodeChecks.json<Check[]>().every((c) => c.CheckID !== 'short-lived'));
  });
});

describe('check definitions', () => {
  test('bad gRPC and alias definitions are refused with Consul messages', async () => {
    const cases: [object, RegExp][] = [
      [{ Name: 'x', GRPC: '127.0.0.1:1' }, /Interval must be > 0/],
      [{ Name: 'x', AliasService: 'web', TTL: '10s' }, /TTL must be not be set for Alias checks/],
      [{ Name: 'x', TTL: '0s' }, /TTL must be > 0 for TTL checks/],
      [
        { Name: 'x', AliasService: 'web', GRPC: '127.0.0.1:1', Interval: '1s' },
        /Interval cannot be set for Alias checks/,
      ],
    ];
    for (const [body, message] of cases) {
      const response = await api(agent.httpAddr, 'PUT', '/v1/agent/check/register', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(response.text, message);
    }
  });

  test('a zero TTL beside AliasService leaves an alias check, as Consul reads it', async () => {
    try {
      await put('/v1/agent/service/register', { Name: 'solo', Port: 7003 });
      await put('/v1/agent/check/register', { Name: 'zero-ttl-alias', AliasService: 'solo', TTL: '0s' });
      const check = await becomes('zero-ttl-alias', 'passing', 'All checks passing.');
      assert.equal(check.Type, 'alias');
    } finally {
      await removeChecks('zero-ttl-alias');
    }
  });
});
