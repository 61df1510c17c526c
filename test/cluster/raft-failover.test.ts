import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  awaitHolds,
  awaitLeader,
  type ClusterServer,
  destroyCluster,
  loopbackHosts,
  missingWrites,
  putKey,
  readPrefix,
  startCluster,
} from '../helpers/cluster.ts';
import { api, eventually } from '../helpers/http.ts';

// A 3-server cluster of real processes: kill -9 of the leader in the middle of a stream of writes, restart,
// and kill -9 of every server. No write the cluster acknowledged may be lost at any point.

describe('a 3-server cluster under kill -9', () => {
  let servers: ClusterServer[] = [];
  const acknowledged = new Map<string, string>();
  after(() => destroyCluster(servers));

  test('the servers find each other, bootstrap together and elect one leader', async () => {
    servers = await startCluster(loopbackHosts(3));
    const leader = await awaitLeader(servers);
    const config = (await api(leader.httpAddr, 'GET', '/v1/operator/raft/configuration')).json<{
      Servers: { Address: string; Voter: boolean; Leader: boolean }[];
    }>();
    assert.deepEqual(config.Servers.map((s) => s.Address).sort(), servers.map((s) => s.rpcAddress).sort());
    assert.ok(config.Servers.every((s) => s.Voter));
    assert.equal(config.Servers.filter((s) => s.Leader).length, 1);
    const peers = (await api(servers[0]!.httpAddr, 'GET', '/v1/status/peers')).json<string[]>();
    assert.equal(peers.length, 3);
  });

  test('kill -9 of the leader during writes: a new leader takes over and no acknowledged write is lost', async () => {
    const leader = await awaitLeader(servers);
    let killed: Promise<void> | undefined;
    let failedAttempts = 0;
    for (let i = 0; acknowledged.size < 300; i++) {
      if (acknowledged.size === 100 && !killed) killed = leader.kill();
      const key = `stream/${String(i).padStart(4, '0')}`;
      // Round-robin over the servers still running, so followers forward writes too.
      const running = servers.filter((s) => s.agent);
      const target = running[i % running.length]!;
      if (await putKey(target, key, `v${i}`)) acknowledged.set(key, `v${i}`);
      else failedAttempts++;
      assert.ok(failedAttempts < 500, 'the cluster stopped taking writes');
    }
    await killed;
    const survivors = servers.filter((s) => s.agent);
    const newLeader = await awaitLeader(survivors);
    assert.notEqual(newLeader.host, leader.host);
    for (const server of survivors) {
      const stored = await readPrefix(server, 'stream/', '&consistent');
      assert.ok(stored, `${server.host} answers a consistent read`);
      assert.deepEqual(
        missingWrites(acknowledged, stored),
        [],
        `acknowledged writes missing on ${server.host}`,
      );
    }
  });

  test('the killed server restarts from its data dir and catches up', async () => {
    const down = servers.find((s) => !s.agent)!;
    await down.start();
    await awaitHolds(down, 'stream/', acknowledged);
  });

  test('kill -9 of every server, then a restart, keeps every acknowledged write', async () => {
    await Promise.all(servers.map((s) => s.kill()));
    await Promise.all(servers.map((s) => s.start()));
    const leader = await awaitLeader(servers);
    const stored = await readPrefix(leader, 'stream/', '&consistent');
    assert.ok(stored);
    assert.deepEqual(missingWrites(acknowledged, stored), []);
    assert.ok(await putKey(leader, 'after/restart', 'ok'), 'the restarted cluster takes writes');
  });

  test('with one server of three left, writes and non-stale reads fail with "No cluster leader"; stale reads work', async () => {
    const [survivor, ...others] = servers;
    // The write was acknowledged by a majority that need not include the survivor: let it catch up first.
    await awaitHolds(survivor!, 'after/', new Map([['after/restart', 'ok']]));
    await Promise.all(others.map((s) => s.kill()));
    // Until the survivor notices, a write forwarded to a dead leader fails on the connection instead: never
    // with success, and within a bounded time as "No cluster leader".
    const started = Date.now();
    await eventually('the survivor refuses writes for want of a leader', async () => {
      const write = await api(survivor!.httpAddr, 'PUT', '/v1/kv/lonely', 'x');
      assert.equal(write.status, 500, write.text);
      return write.text === 'No cluster leader' ? true : undefined;
    });
    assert.ok(Date.now() - started < 10_000, 'refused within the hold timeout and an election timeout');
    const read = await api(survivor!.httpAddr, 'GET', '/v1/kv/after/restart');
    assert.equal(read.status, 500);
    assert.equal(read.text, 'No cluster leader');
    const stale = await api(survivor!.httpAddr, 'GET', '/v1/kv/after/restart?stale');
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get('x-consul-knownleader'), 'false');
    assert.ok(Number(stale.headers.get('x-consul-lastcontact')) > 0);
    // max_stale bounds how stale: beyond it the read needs the leader, which is not there.
    const bounded = await api(survivor!.httpAddr, 'GET', '/v1/kv/after/restart?max_stale=1ms');
    assert.equal(bounded.text, 'No cluster leader');
    const lenient = await api(survivor!.httpAddr, 'GET', '/v1/kv/after/restart?max_stale=1h');
    assert.equal(lenient.status, 200);
  });
});

describe('a 5-server cluster', () => {
  let servers: ClusterServer[] = [];
  after(() => destroyCluster(servers));

  test('bootstraps with -bootstrap-expect=5, elects one leader and survives kill -9 of two servers', async () => {
    servers = await startCluster(loopbackHosts(5));
    const leader = await awaitLeader(servers);
    const peers = (await api(leader.httpAddr, 'GET', '/v1/status/peers')).json<string[]>();
    assert.deepEqual(peers.sort(), servers.map((s) => s.rpcAddress).sort());
    assert.ok(await putKey(leader, 'five/before', '1'));
    const victims = [leader, ...servers.filter((s) => s !== leader).slice(0, 1)];
    await Promise.all(victims.map((s) => s.kill()));
    const survivors = servers.filter((s) => s.agent);
    const next = await awaitLeader(survivors);
    assert.ok(await putKey(next, 'five/after', '2'));
    const stored = await readPrefix(survivors[0]!, 'five/', '&consistent');
    assert.deepEqual(Object.fromEntries(stored ?? []), { 'five/before': '1', 'five/after': '2' });
  });
});
