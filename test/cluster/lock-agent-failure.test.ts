import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  awaitLeader,
  type ClusterServer,
  clusterServer,
  destroyCluster,
  loopbackHosts,
} from '../helpers/cluster.ts';
import { api, eventually } from '../helpers/http.ts';
import { LockChildren } from '../helpers/lock-children.ts';

// `tribune lock` through client agents of a real server: the holder's agent is killed (-9), so gossip finds
// it failed, its serfHealth turns critical and the session it made is invalidated. The holder's child is
// stopped, and the contender on the other agent takes the lock, but only once the lock-delay has passed.

describe('a lock whose holder loses its agent', { timeout: 60_000 }, () => {
  let nodes: ClusterServer[] = [];
  let holderSide: LockChildren | undefined;
  let waiterSide: LockChildren | undefined;
  after(async () => {
    await Promise.all([holderSide?.cleanup(), waiterSide?.cleanup()]);
    await destroyCluster(nodes);
  });

  test('the session dies with the agent; the other contender acquires after the lock-delay', async () => {
    const [serverHost, ...clientHosts] = loopbackHosts(3);
    const server = clusterServer(serverHost!, { bootstrapExpect: 1 });
    const clients = clientHosts.map((host) =>
      clusterServer(host, { client: true, retryJoin: [serverHost!] }),
    );
    nodes = [server, ...clients];
    await server.start();
    await awaitLeader([server]);
    await Promise.all(clients.map((c) => c.start()));
    const [doomed, surviving] = clients as [ClusterServer, ClusterServer];
    await eventually(
      'both clients in the catalog',
      async () => {
        const listed = (await api(server.httpAddr, 'GET', '/v1/catalog/nodes')).json<unknown[]>();
        return listed.length === 3 ? true : undefined;
      },
      20_000,
    );

    holderSide = new LockChildren(doomed.httpAddr);
    waiterSide = new LockChildren(surviving.httpAddr);
    const holder = holderSide.start('holder', 'jobs/leader');
    await holderSide.awaitRunning(1);
    waiterSide.start('waiter', 'jobs/leader');
    const [lock] = (await api(server.httpAddr, 'GET', '/v1/kv/jobs/leader/.lock')).json<
      { Session: string }[]
    >();
    const [session] = (await api(server.httpAddr, 'GET', `/v1/session/info/${lock!.Session}`)).json<
      { Node: string }[]
    >();
    assert.equal(session!.Node, `test-${doomed.host}`, "the session belongs to the holder's agent");

    await doomed.kill();
    await eventually('the holder stops its child', async () =>
      holderSide!.record().includes('term holder') ? true : undefined,
    );
    assert.equal(await holder.exited, 1, 'the lock could not be released through the dead agent');
    const invalidatedAt = await eventually(
      'the session invalidated',
      async () => {
        const info = (await api(server.httpAddr, 'GET', `/v1/session/info/${lock!.Session}`)).json<
          unknown[]
        >();
        return info.length === 0 ? Date.now() : undefined;
      },
      20_000,
    );
    assert.deepEqual(waiterSide.running(), [], 'nobody holds the lock during the lock-delay');
    await waiterSide.awaitRunning(1, 30_000);
    const waited = Date.now() - invalidatedAt;
    assert.ok(
      waited >= 14_900,
      `the waiter started ${waited} ms after the invalidation, inside the lock-delay`,
    );
    waiterSide.release('waiter');
  });
});
