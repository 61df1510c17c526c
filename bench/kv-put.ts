import type { BenchContext, Section } from './context.ts';
import { closedLoop, type LoadResult } from './load/closed-loop.ts';
import { kvDriver, smallValue } from './load/kv.ts';
import { alternate, medianOf } from './rounds.ts';
import { CONSUL_SETTINGS } from './systems/consul.ts';
import { ETCD_SETTINGS } from './systems/etcd.ts';
import { type BenchSystem, chooseSystems } from './systems/index.ts';

// kv-put: KV PUT throughput and p50/p99 latency of a 3-server cluster with fsync on, 64 connections of one
// closed-loop generator writing 16-byte values over 100 keys per connection — Tribune vs Consul vs etcd.

const CONNECTIONS = 64;
const KEYS_PER_CONNECTION = 100;

export async function run(ctx: BenchContext): Promise<Section> {
  const { systems, notes } = chooseSystems(['tribune', 'consul', 'etcd']);
  const rounds = ctx.quick ? 1 : 3;
  const durationMs = ctx.quick ? 2000 : 10_000;
  const warmupMs = ctx.quick ? 500 : 2000;
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
  const errors = systems.map((s) => `${s.name} ${results.get(s.name)!.reduce((n, r) => n + r.errors, 0)}`);
  return {
    benchmark: 'kv-put',
    description: `3-server clusters, fsync on, ${CONNECTIONS} connections, 16-byte values, median of ${rounds} × ${durationMs / 1000} s (after ${warmupMs / 1000} s warm-up).`,
    rows,
    notes: [
      ...notes,
      'Tribune and Consul: all connections to the leader (HTTP PUT /v1/kv); etcd: gRPC KV.Put over connections spread round-robin across the 3 members, as its client does (followers forward to the leader).',
      CONSUL_SETTINGS,
      ETCD_SETTINGS,
      `errors over all rounds: ${errors.join(', ')}`,
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
