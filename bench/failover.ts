import { performance } from 'node:perf_hooks';
import type { BenchContext, Section } from './context.ts';
import { type KvDriver, kvDriver, smallValue } from './load/kv.ts';
import { alternate, medianOf, roundCount } from './rounds.ts';
import type { Cluster } from './systems/cluster.ts';
import { CONSUL_SETTINGS } from './systems/consul.ts';
import { ETCD_SETTINGS } from './systems/etcd.ts';
import { type BenchSystem, chooseSystems } from './systems/index.ts';
import { sleep } from './systems/net.ts';

// failover: a 3-server cluster under a steady write load (16 closed-loop writers, each request to the next
// member in turn), kill -9 of the leader, and the time from the kill to the first acknowledged write sent
// after it. So that a client's retry policy does not decide the figure (a write a follower accepted while
// leaderless may wait out a long timeout), a probe write goes to a surviving member every 25 ms from the kill
// on, each on its own; the first probe acknowledged ends the round. Tribune vs Consul vs etcd, a fresh
// cluster each round.

const WRITERS = 16;
const PROBE_INTERVAL_MS = 25;
const GIVE_UP_MS = 30_000;

interface Result {
  failoverMs: number;
}

export async function run(ctx: BenchContext): Promise<Section> {
  const { systems, notes } = chooseSystems(['tribune', 'consul', 'etcd']);
  const rounds = roundCount(ctx.quick ? 1 : 5);
  const results = await alternate(
    rounds,
    systems,
    (system) => measure(system, ctx.quick ? 500 : 2000),
    ctx.log,
  );
  return {
    benchmark: 'failover',
    description: `3-server clusters, ${WRITERS} writers sending to every member in turn, kill -9 of the leader; median of ${rounds} rounds.`,
    rows: [
      {
        metric: 'kill -9 leader → first write acked, ms',
        better: 'lower',
        values: Object.fromEntries(
          systems.map((s) => [s.name, medianOf(results.get(s.name), (r) => r.failoverMs)]),
        ),
      },
    ],
    notes: [
      ...notes,
      `After the kill a probe write goes to a surviving member every ${PROBE_INTERVAL_MS} ms (each on its own, 10 s timeout); the figure is the first probe's acknowledgement, so it measures when the cluster takes writes again rather than a client's retry policy (granularity ${PROBE_INTERVAL_MS} ms).`,
      'Election timing: Tribune 150–300 ms randomized election timeout, 50 ms heartbeat; ' + ETCD_SETTINGS,
      CONSUL_SETTINGS,
    ],
  };
}

async function measure(system: BenchSystem, loadBeforeKillMs: number): Promise<Result> {
  const cluster = await system.startCluster(3);
  const drivers: KvDriver[] = [];
  try {
    const leader = await cluster.leader();
    // One driver per member, so a writer can choose the member; for etcd each driver's connections all go
    // to the member it was made for.
    for (const member of cluster.members) drivers.push(memberDriver(cluster, member));
    let stop = false;
    const writer = async (loop: number) => {
      for (let n = 0; !stop; n++) {
        const member = (loop + n) % cluster.members.length;
        await drivers[member]!.put(0, `bench/failover/${loop}`, smallValue(loop, n)).catch(() => sleep(5));
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, i) => writer(i));
    await sleep(loadBeforeKillMs);
    const survivors = cluster.members.flatMap((m, i) => (m === leader ? [] : [drivers[i]!]));
    const killAt = performance.now();
    await leader.process.kill9();
    const firstAck = await firstProbeAck(survivors);
    // The writers stop at their next turn; those waiting on a request end when the cluster is destroyed.
    stop = true;
    void writers;
    if (firstAck === undefined)
      throw new Error(`${system.name}: no write acknowledged ${GIVE_UP_MS} ms after the kill`);
    return { failoverMs: firstAck - killAt };
  } finally {
    await Promise.all(drivers.map((d) => d.close().catch(() => undefined)));
    await cluster.destroy();
  }
}

/** Sends a probe write every PROBE_INTERVAL_MS, alternating over `drivers`; the time of the first ack. */
function firstProbeAck(drivers: KvDriver[]): Promise<number | undefined> {
  return new Promise((resolve) => {
    let n = 0;
    const finish = (at: number | undefined) => {
      clearInterval(interval);
      clearTimeout(giveUp);
      resolve(at);
    };
    const probe = () => {
      const driver = drivers[n % drivers.length]!;
      driver.put(1, 'bench/failover/probe', smallValue(999, n++)).then(
        () => finish(performance.now()),
        () => undefined,
      );
    };
    const interval = setInterval(probe, PROBE_INTERVAL_MS);
    const giveUp = setTimeout(() => finish(undefined), GIVE_UP_MS);
    probe();
  });
}

/** A KV driver whose every connection goes to `member` (for etcd too). */
function memberDriver(cluster: Cluster, member: Cluster['members'][number]): KvDriver {
  const single: Cluster = { ...cluster, members: [member] };
  return kvDriver(single, member, 4);
}
