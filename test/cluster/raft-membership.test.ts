import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  awaitHolds,
  awaitLeader,
  type ClusterServer,
  clusterServer,
  destroyCluster,
  loopbackHosts,
  putKey,
  readPrefix,
  startCluster,
} from '../helpers/cluster.ts';
import { api, eventually } from '../helpers/http.ts';

// Real server processes: a lagging server catches up through InstallSnapshot; servers join a running
// cluster, are promoted by autopilot, and are removed, while writes keep succeeding.

interface RaftConfig {
  Servers: { ID: string; Address: string; Voter: boolean; Leader: boolean }[];
}

const configuration = async (server: ClusterServer) =>
  (await api(server.httpAddr, 'GET', '/v1/operator/raft/configuration')).json<RaftConfig>();

describe('a lagging server', () => {
  let servers: ClusterServer[] = [];
  after(() => destroyCluster(servers));

  test('catches up through InstallSnapshot once the leader has compacted its log', async () => {
    servers = await startCluster(loopbackHosts(3), [
      '-raft-snapshot-threshold',
      '64',
      '-raft-trailing-logs',
      '8',
    ]);
    const leader = await awaitLeader(servers);
    const lagging = servers.find((s) => s !== leader)!;
    await lagging.kill();
    const written = new Map<string, string>();
    for (let i = 0; i < 300; i++) {
      const key = `lag/${i}`;
      assert.ok(await putKey(leader, key, `v${i}`), `write ${key}`);
      written.set(key, `v${i}`);
    }
    await lagging.start();
    await awaitHolds(lagging, 'lag/', written);
    assert.match(lagging.agent!.output(), /installed a snapshot from the leader/);
  });
});

describe('membership changes without downtime', () => {
  let servers: ClusterServer[] = [];
  after(() => destroyCluster(servers));

  test('a 4th and 5th server join, autopilot makes them voters, one is removed and one leaves', async () => {
    const hosts = loopbackHosts(5);
    servers = await startCluster(hosts.slice(0, 3));
    const leader = await awaitLeader(servers);
    const joiners = hosts.slice(3).map((host) => clusterServer(host, { retryJoin: [servers[0]!.host] }));
    servers.push(...joiners);

    // Writes go on the whole time; every one must succeed.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        const res = await api(leader.httpAddr, 'PUT', `/v1/kv/live/${writes}`, 'x');
        assert.equal(res.text, 'true', `write ${writes} failed during a membership change`);
        writes++;
      }
    })();

    await Promise.all(joiners.map((s) => s.start()));
    await eventually(
      'five voters',
      async () => {
        const config = await configuration(leader);
        return config.Servers.length === 5 && config.Servers.every((s) => s.Voter) ? true : undefined;
      },
      45_000,
    );
    const removed = joiners[1]!;
    const removedId = (await configuration(leader)).Servers.find((s) => s.Address === removed.rpcAddress)!.ID;
    const removal = await api(leader.httpAddr, 'DELETE', `/v1/operator/raft/peer?id=${removedId}`);
    assert.equal(removal.status, 200, removal.text);
    await removed.kill();
    assert.equal((await configuration(leader)).Servers.length, 4);

    // A graceful leave takes the server out of the configuration before it exits.
    const leaving = joiners[0]!;
    const exited = new Promise((resolve) => leaving.agent!.process.once('exit', resolve));
    assert.equal((await api(leaving.httpAddr, 'PUT', '/v1/agent/leave')).status, 200);
    await exited;
    leaving.agent = undefined;
    assert.deepEqual(
      (await configuration(leader)).Servers.map((s) => s.Address).sort(),
      servers
        .slice(0, 3)
        .map((s) => s.rpcAddress)
        .sort(),
    );

    const nodes = (await api(leader.httpAddr, 'GET', '/v1/catalog/nodes')).json<{ Node: string }[]>();
    assert.ok(
      !nodes.some((n) => n.Node === `test-${leaving.host}`),
      'a server that left is no longer in the catalog',
    );
    assert.ok(nodes.some((n) => n.Node === `test-${leader.host}`));

    writing = false;
    await writer;
    assert.ok(writes > 0);
    const stored = await readPrefix(leader, 'live/', '&consistent');
    assert.equal(stored?.size, writes);
  });
});

describe('dead server cleanup', () => {
  let servers: ClusterServer[] = [];
  after(() => destroyCluster(servers));

  test('autopilot removes a server that stays dead, and it joins again when it comes back', async () => {
    servers = await startCluster(loopbackHosts(3));
    const leader = await awaitLeader(servers);
    const dead = servers.find((s) => s !== leader)!;
    await dead.kill();
    await eventually(
      'the dead server removed from the configuration',
      async () => ((await configuration(leader)).Servers.length === 2 ? true : undefined),
      60_000,
    );
    const written = new Map([['cleanup/after', 'removed']]);
    assert.ok(await putKey(leader, 'cleanup/after', 'removed'));

    await dead.start();
    await eventually(
      'the returning server back as a voter',
      async () => {
        const config = await configuration(leader);
        const back = config.Servers.find((s) => s.Address === dead.rpcAddress);
        return config.Servers.length === 3 && back?.Voter ? true : undefined;
      },
      45_000,
    );
    await awaitHolds(dead, 'cleanup/', written);
  });
});
