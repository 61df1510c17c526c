import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import {
  awaitLeader,
  type ClusterServer,
  destroyCluster,
  loopbackHosts,
  putKey,
  startCluster,
} from '../helpers/cluster.ts';
import { eventually } from '../helpers/http.ts';
import { startWatch, type WatchProcess } from '../helpers/watch-process.ts';

// A `tribune watch` on a follower of a 3-server cluster (real processes) through a kill -9 and restart of the
// very server it watches through and a kill -9 of the leader: it hands its handler every value once, in
// order, the one written while its server was down and the last one, after the leader change, included.

describe('a watch across a server restart and a leader change', { timeout: 60_000 }, () => {
  let servers: ClusterServer[] = [];
  let watch: WatchProcess | undefined;
  after(async () => {
    await watch?.stop();
    await destroyCluster(servers);
  });

  const write = (value: string) =>
    eventually(
      `the cluster taking "${value}"`,
      async () => {
        for (const server of servers.filter((s) => s.agent)) {
          if (await putKey(server, 'cfg/final', value)) return true;
        }
        return undefined;
      },
      20_000,
    );
  const values = () =>
    watch!.runs().map(({ json }) => {
      const pair = JSON.parse(json) as { Value: string } | null;
      return pair && Buffer.from(pair.Value, 'base64').toString();
    });

  test('every value reaches the handler once, the final one included', async () => {
    // One HTTP port for all (each server has its own address), so a restarted server answers where it did.
    const free = createServer().listen(0, '127.0.0.1');
    await once(free, 'listening');
    const port = String((free.address() as AddressInfo).port);
    free.close();
    servers = await startCluster(loopbackHosts(3), ['-http-port', port]);
    const leader = await awaitLeader(servers);
    const watched = servers.find((s) => s !== leader)!;
    watch = startWatch(watched.httpAddr, ['-type=key', '-key=cfg/final']);
    await watch.awaitRuns(1);
    await write('v1');
    await watch.awaitRuns(2);

    // The watched server dies; a value is written while it is down; it comes back.
    await watched.kill();
    await write('v2');
    await watched.start();
    await watch.awaitRuns(3, 40_000);

    // Leader change: the leader dies, one of the other two is elected, the last value goes through it.
    await leader.kill();
    await awaitLeader(servers.filter((s) => s.agent));
    await write('v3');
    await watch.awaitRuns(4);
    assert.deepEqual(values(), [null, 'v1', 'v2', 'v3']);
    assert.match(watch.stderr(), /Watch errored: type=key/, 'the restart was seen as an error and retried');
  });
});
