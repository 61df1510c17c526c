import assert from 'node:assert/strict';
import { promises as dnsPromises } from 'node:dns';
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

// DNS on a real three-server Raft cluster with a client agent: every server answers for a service registered
// through the client (followers from their own state, stale as Consul's DNS reads by default), a failing check
// takes the instance out of every server's answers, and with two servers gone the last one keeps answering
// without a quorum. The client agent answers too, by handing each message to a server.

const DNS_PORT = 8600;

function resolverFor(host: string): dnsPromises.Resolver {
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`${host}:${DNS_PORT}`]);
  return resolver;
}

const addresses = (host: string, name: string) =>
  resolverFor(host)
    .resolve4(name)
    .then((ips) => ips.sort())
    .catch((err: NodeJS.ErrnoException) => err.code ?? 'error');

describe('DNS on a cluster', { timeout: 180_000 }, () => {
  let servers: ClusterServer[] = [];
  let client: ClusterServer | undefined;
  after(() => destroyCluster([...servers, ...(client ? [client] : [])]));

  test('servers, and the client agent through them, answer for a client’s service', async () => {
    const hosts = loopbackHosts(4);
    servers = await startCluster(hosts.slice(0, 3));
    await awaitLeader(servers);
    client = clusterServer(hosts[3]!, { client: true, retryJoin: [hosts[0]!] });
    await client.start();

    await eventually(
      'the client registers "api"',
      async () => {
        const res = await api(client!.httpAddr, 'PUT', '/v1/agent/service/register', {
          Name: 'api',
          Port: 7000,
          Check: { CheckID: 'api-ttl', TTL: '120s' },
        });
        return res.status === 200 ? true : undefined;
      },
      30_000,
    );
    await api(client.httpAddr, 'PUT', '/v1/agent/check/pass/api-ttl');
    for (const server of servers) {
      await eventually(
        `${server.host} resolves api.service.consul`,
        async () =>
          (await addresses(server.host, 'api.service.consul')).toString() === hosts[3] ? true : undefined,
        30_000,
      );
    }
    assert.deepEqual(await addresses(servers[1]!.host, 'consul.service.consul'), hosts.slice(0, 3).sort());
    // The client agent's own DNS port answers the same, over UDP (Node's resolver) as the servers do.
    assert.deepEqual(await addresses(hosts[3]!, 'api.service.consul'), [hosts[3]!]);
    assert.deepEqual(await addresses(hosts[3]!, 'consul.service.consul'), hosts.slice(0, 3).sort());
  });

  test('a failing check takes the instance out of every server’s answers', async () => {
    const failed = await api(client!.httpAddr, 'PUT', '/v1/agent/check/fail/api-ttl');
    assert.equal(failed.status, 200, failed.text);
    for (const server of servers) {
      await eventually(
        `${server.host} stops answering for api`,
        async () => ((await addresses(server.host, 'api.service.consul')) === 'ENOTFOUND' ? true : undefined),
        30_000,
      );
    }
    await api(client!.httpAddr, 'PUT', '/v1/agent/check/pass/api-ttl');
    for (const server of servers) {
      await eventually(
        `${server.host} answers for api again`,
        async () => (Array.isArray(await addresses(server.host, 'api.service.consul')) ? true : undefined),
        30_000,
      );
    }
  });

  test('without a quorum the last server still answers from its state', async () => {
    const [survivor, ...others] = servers;
    await Promise.all(others.map((s) => s.kill()));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const leader = await api(survivor!.httpAddr, 'GET', '/v1/status/leader');
    assert.equal(leader.json<string>(), '', 'no leader is left');
    assert.deepEqual(await addresses(survivor!.host, 'api.service.consul'), [client!.host]);
  });
});
