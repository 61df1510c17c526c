import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, describe, test } from 'node:test';
import {
  awaitLeader,
  type ClusterServer,
  clusterServer,
  destroyCluster,
  loopbackHosts,
  startCluster,
} from '../helpers/cluster.ts';
import { api, eventually } from '../helpers/http.ts';

// Three servers and ten client agents, all real processes on 127.x.y.z. Services registered on the clients
// show in /v1/health/service; kill -9 of a client turns its instance critical within gossip's failure
// detection; a graceful leave deregisters it; an HTTP check flipping to 500 turns the instance critical and
// back. Clients answer catalog reads and KV writes by handing them to servers.

const CLIENTS = 10;

interface HealthEntry {
  Node: { Node: string };
  Service: { ID: string; Service: string };
  Checks: { CheckID: string; Status: string }[];
}

describe('client agents', { timeout: 300_000 }, () => {
  let servers: ClusterServer[] = [];
  let clients: ClusterServer[] = [];
  let checkTarget: Server;
  /** The status each client's HTTP check answers, by client index. */
  const answers = new Map<number, number>();
  after(async () => {
    await destroyCluster([...servers, ...clients]);
    checkTarget?.close();
  });

  const health = async (query = '') =>
    (await api(servers[0]!.httpAddr, 'GET', `/v1/health/service/web${query}`)).json<HealthEntry[]>();

  test('ten clients join, register "web" with an HTTP check, and every instance passes', async () => {
    checkTarget = createServer((req, res) => {
      const index = Number(req.url!.slice(1));
      res.writeHead(answers.get(index) ?? 200).end('ok');
    });
    await new Promise<void>((resolve) => checkTarget.listen(0, '127.0.0.1', resolve));
    const port = (checkTarget.address() as { port: number }).port;

    const hosts = loopbackHosts(3 + CLIENTS);
    servers = await startCluster(hosts.slice(0, 3));
    await awaitLeader(servers);
    clients = hosts.slice(3).map((host) => clusterServer(host, { client: true, retryJoin: [hosts[0]!] }));
    await Promise.all(clients.map((c) => c.start()));
    await Promise.all(
      clients.map(async (client, i) => {
        const body = {
          Name: 'web',
          ID: `web-${i}`,
          Port: 8080,
          Check: { HTTP: `http://127.0.0.1:${port}/${i}`, Interval: '1s' },
        };
        await eventually(
          `client ${i} registers its service`,
          async () => {
            const res = await api(client.httpAddr, 'PUT', '/v1/agent/service/register', body);
            return res.status === 200 ? true : undefined;
          },
          30_000,
        );
      }),
    );
    await eventually(
      'ten passing instances',
      async () => ((await health('?passing')).length === CLIENTS ? true : undefined),
      30_000,
    );
    const members = (await api(servers[0]!.httpAddr, 'GET', '/v1/agent/members')).json<
      { Tags: { role: string } }[]
    >();
    assert.equal(members.filter((m) => m.Tags.role === 'node').length, CLIENTS);
  });

  test('a client answers catalog reads and KV writes through the servers', async () => {
    const client = clients[0]!;
    const viaClient = (await api(client.httpAddr, 'GET', '/v1/health/service/web')).json<HealthEntry[]>();
    assert.equal(viaClient.length, CLIENTS);
    const put = await api(client.httpAddr, 'PUT', '/v1/kv/from/client', 'hello');
    assert.equal(put.text, 'true');
    const read = await api(servers[1]!.httpAddr, 'GET', '/v1/kv/from/client?raw');
    assert.equal(read.text, 'hello');
    const leader = await api(client.httpAddr, 'GET', '/v1/status/leader');
    assert.match(leader.json<string>(), /:8300$/);
  });

  test('an HTTP check answering 500 turns its instance critical, and 200 brings it back', async () => {
    answers.set(2, 500);
    await eventually('web-2 critical', async () => {
      const entry = (await health()).find((e) => e.Service.ID === 'web-2');
      return entry?.Checks.some((c) => c.CheckID === 'service:web-2' && c.Status === 'critical')
        ? true
        : undefined;
    });
    answers.set(2, 200);
    await eventually('web-2 passing again', async () =>
      (await health('?passing')).some((e) => e.Service.ID === 'web-2') ? true : undefined,
    );
  });

  test('kill -9 of a client makes its instance critical within failure detection', async () => {
    const victim = clients[3]!;
    const started = Date.now();
    await victim.kill();
    await eventually(
      'web-3 no longer passing',
      async () => (!(await health('?passing')).some((e) => e.Service.ID === 'web-3') ? true : undefined),
      30_000,
    );
    const elapsed = Date.now() - started;
    // memberlist's LAN detection: a probe round, then suspicion (4 × log10(n) probe intervals, at least 4 s).
    assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
    const entry = (await health()).find((e) => e.Service.ID === 'web-3');
    assert.equal(entry?.Checks.find((c) => c.CheckID === 'serfHealth')?.Status, 'critical');
  });

  test('a graceful leave deregisters the client and its services', async () => {
    const leaving = clients[4]!;
    const exited = new Promise((resolve) => leaving.agent!.process.once('exit', resolve));
    assert.equal((await api(leaving.httpAddr, 'PUT', '/v1/agent/leave')).status, 200);
    await exited;
    leaving.agent = undefined;
    await eventually('web-4 gone from the catalog', async () =>
      !(await health()).some((e) => e.Service.ID === 'web-4') ? true : undefined,
    );
  });
});
