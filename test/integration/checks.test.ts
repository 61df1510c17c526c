import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';

// Active health checks run by a real dev agent against real sockets the test controls.

let agent: DevAgent;
before(async () => {
  agent = await startDevAgent();
});
after(() => agent.stop());

interface Check {
  CheckID: string;
  Status: string;
  Output: string;
  Type: string;
  Interval: string;
}

const checkOf = async (id: string) =>
  (await api(agent.httpAddr, 'GET', '/v1/agent/checks')).json<Record<string, Check>>()[id];

const statusBecomes = (id: string, status: string) =>
  eventually(
    `${id} to become ${status}`,
    async () => {
      const check = await checkOf(id);
      return check?.Status === status ? check : undefined;
    },
    15_000,
  );

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, agent.host, () => resolve((server.address() as net.AddressInfo).port)),
  );
}

describe('active checks', () => {
  test('an HTTP check follows the endpoint: 200 passing, 429 warning, 500 critical', async () => {
    let code = 200;
    const server = http.createServer((_req, res) => res.writeHead(code).end(`status ${code}`));
    const port = await listen(server);
    try {
      const registered = await api(agent.httpAddr, 'PUT', '/v1/agent/service/register', {
        Name: 'web',
        Port: port,
        Check: { HTTP: `http://${agent.host}:${port}/health`, Interval: '1s', Timeout: '2s' },
      });
      assert.equal(registered.status, 200, registered.text);
      const passing = await statusBecomes('service:web', 'passing');
      assert.equal(passing.Type, 'http');
      assert.equal(passing.Interval, '1s');
      assert.match(passing.Output, /^HTTP GET http:\/\/.*\/health: 200 OK Output: status 200$/);
      code = 429;
      await statusBecomes('service:web', 'warning');
      code = 500;
      const critical = await statusBecomes('service:web', 'critical');
      assert.match(critical.Output, /500 Internal Server Error Output: status 500/);
      const health = await api(agent.httpAddr, 'GET', '/v1/health/service/web?passing');
      assert.deepEqual(health.json(), [], 'a critical instance is filtered by ?passing');
      code = 200;
      await statusBecomes('service:web', 'passing');
    } finally {
      server.close();
    }
  });

  test('a TCP check passes while something listens and goes critical when it stops', async () => {
    const server = net.createServer((socket) => socket.end());
    const port = await listen(server);
    await api(agent.httpAddr, 'PUT', '/v1/agent/check/register', {
      Name: 'tcp-probe',
      TCP: `${agent.host}:${port}`,
      Interval: '1s',
    });
    const passing = await statusBecomes('tcp-probe', 'passing');
    assert.equal(passing.Output, `TCP connect ${agent.host}:${port}: Success`);
    await new Promise((resolve) => server.close(resolve));
    const critical = await statusBecomes('tcp-probe', 'critical');
    assert.match(critical.Output, /^dial tcp .*ECONNREFUSED|connection refused/);
  });

  test('FailuresBeforeCritical holds the status through a single failure', async () => {
    let failing = false;
    const server = http.createServer((_req, res) => res.writeHead(failing ? 503 : 200).end());
    const port = await listen(server);
    try {
      await api(agent.httpAddr, 'PUT', '/v1/agent/check/register', {
        Name: 'patient',
        HTTP: `http://${agent.host}:${port}/`,
        Interval: '1s',
        FailuresBeforeCritical: 3,
        Status: 'passing',
      });
      await statusBecomes('patient', 'passing');
      failing = true;
      const started = Date.now();
      await statusBecomes('patient', 'critical');
      assert.ok(Date.now() - started >= 2000, 'went critical before three failed runs');
    } finally {
      server.close();
    }
  });

  test('bad definitions are refused with Consul messages', async () => {
    const cases: [object, RegExp][] = [
      [{ Name: 'x', HTTP: 'http://127.0.0.1:1/' }, /Interval must be > 0/],
      [{ Name: 'x', Args: ['/bin/true'], Interval: '1s' }, /Scripts are disabled on this agent/],
      [{ Name: 'x', TCP: 'no-port', Interval: '1s' }, /missing port in address/],
      [{ Name: 'x', HTTP: 'ftp://example', Interval: '1s' }, /HTTP must be an http/],
      [{ Name: 'x' }, /Must provide TTL or Script/],
    ];
    for (const [body, message] of cases) {
      const response = await api(agent.httpAddr, 'PUT', '/v1/agent/check/register', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(response.text, message);
    }
  });
});
