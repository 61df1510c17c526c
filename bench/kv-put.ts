import type { BenchContext, Section } from './context.ts';
import { closedLoop, type LoadResult } from './load/closed-loop.ts';
import { kvDriver, smallValue } from './load/kv.ts';
import { alternate, clientCpuSummary, errorSummary, medianOf, roundCount } from './rounds.ts';
import { CONSUL_SETTINGS } from './systems/consul.ts';
import { ETCD_SETTINGS } from './systems/etcd.ts';
import { type BenchSystem, chooseSystems } from './systems/index.ts';

// kv-put: KV PUT throughput and p50/p99 latency of a 3-server cluster with fsync on, 64 connections of one
// closed-loop generator writing 16-byte values over 100 keys per connection — Tribune vs Consul vs etcd.

const CONNECTIONS = 64;
const KEYS_PER_CONNECTION = 100;

export async function run(ctx: BenchContext): Promise<Section> {
  const { systems, notes } = chooseSystems(['tribune', 'consul', 'etcd']);
  // Five shorter rounds rather than three long ones: on a shared machine the median then shrugs off more of
  // the other work's bursts.
  const rounds = roundCount(ctx.quick ? 1 : 5);
  const durationMs = ctx.quick ? 2000 : 6000;
  const warmupMs = ctx.quick ? 500 : 1000;
  const results = await alternate(
    rounds,
    systems,
    (system) => measure(system, durationMs, warmupMs),
    ctx.log,
  );
  const rows = [
    { metric: 'PUT/s', better: 'higher' as const, pick: (r: LoadResult) => r.throughput, digits: 0 },
    { metric: 'PUT p50 ms', better: 'lower' as const, pick: (r: LoadResult) => r.p50Ms, digits: 2 },
    { metric: 'PUT p99 ms', better: 'lower' as const, pick: (r: LoadResult) => r.p99Ms, digits: 2 },
  ].map(({ metric, better, pick, digits }) => ({
    metric,
    better,
    digits,
    values: Object.fromEntries(systems.map((s) => [s.name, medianOf(results.get(s.name), pick)])),
  }));
  return {
    benchmark: 'kv-put',
    description: `3-server clusters, fsync on, ${CONNECTIONS} requests in flight (connections: see notes), 16-byte values, median of ${rounds} × ${durationMs / 1000} s (after ${warmupMs / 1000} s warm-up).`,
    rows,
    notes: [
      ...notes,
      "Tribune and Consul: 64 HTTP keep-alive connections, all to the leader (PUT /v1/kv; a follower would forward to it). etcd: 64 concurrent gRPC KV.Put requests over one HTTP/2 connection per member, round-robin across the 3 members, as etcd's Go client does (followers forward to the leader); 64 separate gRPC connections gave etcd ~30% less.",
      CONSUL_SETTINGS,
      ETCD_SETTINGS,
      `errors over all rounds: ${errorSummary(results)}`,
      `load generator CPU, cores (2 on this machine): ${clientCpuSummary(results)}`,
    ],
  };
}

async function measure(system: BenchSystem, durationMs: number, warmupMs: number): Promise<LoadResult> {
  const cluster = await system.startCluster(3);
  try {
    const leader = await cluster.leader();
    const kv = kvDriver(cluster, leader, CONNECTIONS);
    try {
      return await closedLoop(CONNECTIONS, durationMs, warmupMs, (loop, n) =>
        kv.put(loop, `bench/put/${loop}/${n % KEYS_PER_CONNECTION}`, smallValue(loop, n)),
      );
    } finally {
      await kv.close();
    }
  } finally {
    await cluster.destroy();
  }
}
