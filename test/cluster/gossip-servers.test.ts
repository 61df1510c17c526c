import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Member } from '../../src/http/context.ts';
import {
  awaitLeader,
  type ClusterServer,
  destroyCluster,
  loopbackHosts,
  startCluster,
} from '../helpers/cluster.ts';
import { api, eventually } from '../helpers/http.ts';
import { missingPeer } from '../helpers/peers.ts';
import { type SerfAgent, startSerf } from '../helpers/serf.ts';

// Server agents gossip on their LAN pool: every server lists the others, a real serf agent joins the pool
// and sees them, a kill -9 shows as failed in serf and as a critical serfHealth check in the catalog (the
// leader's reconciliation), and a restart brings both back.

const skip = missingPeer('serf', ['serf', 'version']);

const members = async (server: ClusterServer) =>
  (await api(server.httpAddr, 'GET', '/v1/agent/members')).json<Member[]>();

const serfStatus = async (serf: SerfAgent, name: string) =>
  (
    JSON.parse(await serf.cli('members', '-format=json')) as { members: { name: string; status: string }[] }
  ).members.find((m) => m.name === name)?.status;

describe('server agents on the LAN pool', { skip, timeout: 180_000 }, () => {
  let servers: ClusterServer[] = [];
  let serf: SerfAgent | undefined;
  after(async () => {
    await serf?.stop();
    await destroyCluster(servers);
  });

  test('servers list each other alive with Consul server tags', async () => {
    servers = await startCluster(loopbackHosts(3));
    await awaitLeader(servers);
    await eventually('three alive servers in every pool', async () => {
      const views = await Promise.all(servers.map(members));
      return views.every(
        (view) => view.filter((m) => m.Status === 1 && m.Tags.role === 'consul').length === 3,
      )
        ? true
        : undefined;
    });
    const [member] = (await members(servers[0]!)).filter((m) => m.Name === `test-${servers[1]!.host}`);
    assert.equal(member!.Addr, servers[1]!.host);
    assert.equal(member!.Port, 8301);
    assert.equal(member!.Tags.port, '8300');
    assert.equal(member!.Tags.dc, 'dc1');
    assert.equal(member!.Tags.wan_join_port, '8302');
    await eventually('the servers joined each other on the WAN pool as <node>.<dc>', async () => {
      const wan = (await api(servers[2]!.httpAddr, 'GET', '/v1/agent/members?wan=1')).json<Member[]>();
      const names = wan
        .filter((m) => m.Status === 1)
        .map((m) => m.Name)
        .sort();
      return names.join() ===
        servers
          .map((s) => `test-${s.host}.dc1`)
          .sort()
          .join()
        ? true
        : undefined;
    });
  });

  test('a real serf agent joins and sees the servers; kill -9 shows failed there and critical in the catalog', async () => {
    serf = await startSerf('serf-watcher', [`-join=${servers[0]!.host}:8301`]);
    await eventually('serf sees the servers alive', async () =>
      (await Promise.all(servers.map((s) => serfStatus(serf!, `test-${s.host}`)))).every(
        (status) => status === 'alive',
      )
        ? true
        : undefined,
    );
    await eventually('the servers see serf', async () =>
      (await members(servers[0]!)).some((m) => m.Name === 'serf-watcher' && m.Status === 1)
        ? true
        : undefined,
    );

    const leader = await awaitLeader(servers);
    const victim = servers.find((s) => s !== leader)!;
    const name = `test-${victim.host}`;
    await victim.kill();
    await eventually('serf marks the killed server failed', async () =>
      (await serfStatus(serf!, name)) === 'failed' ? true : undefined,
    );
    await eventually('its serfHealth check goes critical', async () => {
      const checks = (await api(leader.httpAddr, 'GET', `/v1/health/node/${name}`)).json<
        { CheckID: string; Status: string; Output: string }[]
      >();
      const serfHealth = checks.find((c) => c.CheckID === 'serfHealth');
      return serfHealth?.Status === 'critical' && serfHealth.Output === 'Agent not live or unreachable'
        ? true
        : undefined;
    });

    await victim.start();
    await eventually('alive in serf again', async () =>
      (await serfStatus(serf!, name)) === 'alive' ? true : undefined,
    );
    await eventually('serfHealth passing again', async () => {
      const checks = (await api(leader.httpAddr, 'GET', `/v1/health/node/${name}`)).json<
        { CheckID: string; Status: string }[]
      >();
      return checks.find((c) => c.CheckID === 'serfHealth')?.Status === 'passing' ? true : undefined;
    });

    // A graceful leave: serf sees the server left, and the catalog drops its node.
    const exited = new Promise((resolve) => victim.agent!.process.once('exit', resolve));
    assert.equal((await api(victim.httpAddr, 'PUT', '/v1/agent/leave')).status, 200);
    await exited;
    victim.agent = undefined;
    await eventually('serf shows the server left', async () =>
      (await serfStatus(serf!, name)) === 'left' ? true : undefined,
    );
    const nodes = (await api(leader.httpAddr, 'GET', '/v1/catalog/nodes')).json<{ Node: string }[]>();
    assert.ok(!nodes.some((n) => n.Node === name));
  });
});
