import type { BenchContext, Section } from './context.ts';
import { closedLoop, type LoadResult } from './load/closed-loop.ts';
import { type KvDriver, kvDriver, type ReadMode, smallValue } from './load/kv.ts';
import type { Row } from './report/table.ts';
import { alternate, clientCpuSummary, errorSummary, medianOf, retrying, roundCount } from './rounds.ts';
import type { SystemName } from './systems/cluster.ts';
import { CONSUL_SETTINGS } from './systems/consul.ts';
import { type BenchSystem, chooseSystems } from './systems/index.ts';

// kv-get: KV GET throughput of a 3-server cluster, 64 connections reading random keys among a preloaded
// set, in each read mode: default (leader lease), ?consistent (ReadIndex) and ?stale for Tribune and Consul;
// etcd's linearizable reads stand beside ?consistent and its serializable reads beside ?stale.

const CONNECTIONS = 64;
const MODES: ReadMode[] = ['default', 'consistent', 'stale'];
const MODE_LABEL: Record<ReadMode, string> = {
  default: 'GET/s default',
  consistent: 'GET/s ?consistent (etcd: linearizable)',
  stale: 'GET/s ?stale (etcd: serializable)',
};

type Result = Partial<Record<ReadMode, LoadResult>>;

export async function run(ctx: BenchContext): Promise<Section> {
  const { systems, notes } = chooseSystems(['tribune', 'consul', 'etcd']);
  const rounds = roundCount(ctx.quick ? 1 : 3);
  const durationMs = ctx.quick ? 1500 : 5000;
  const warmupMs = ctx.quick ? 300 : 1000;
  const keys = ctx.quick ? 256 : 1000;
  const results = await alternate(
    rounds,
    systems,
    (system) => measure(system, keys, durationMs, warmupMs),
    ctx.log,
  );
  const rows: Row[] = MODES.flatMap((mode) => [
    {
      metric: MODE_LABEL[mode],
      better: 'higher' as const,
      values: valuesFor(systems, results, mode, (r) => r.throughput),
    },
    {
      metric: `p99 ms ${mode}`,
      better: 'lower' as const,
      digits: 2,
      values: valuesFor(systems, results, mode, (r) => r.p99Ms),
    },
  ]);
  const flat = new Map(
    [...results].map(([name, rounds]) => [name, rounds.flatMap((r) => Object.values(r) as LoadResult[])]),
  );
  return {
    benchmark: 'kv-get',
    description: `3-server clusters, ${CONNECTIONS} requests in flight (connections: see notes), random keys among ${keys} preloaded 16-byte values, median of ${rounds} × ${durationMs / 1000} s per read mode (after ${warmupMs / 1000} s warm-up).`,
    rows,
    notes: [
      ...notes,
      'Tribune and Consul: 64 HTTP keep-alive connections, all to the leader (GET /v1/kv/<key>[?consistent|?stale]). etcd: 64 concurrent gRPC KV.Range requests over one HTTP/2 connection per member, round-robin across the 3 members as its Go client does (linearizable reads by ReadIndex through the leader, serializable ones from the member asked). etcd has no leader-lease read: no etcd figure in the default rows.',
      CONSUL_SETTINGS,
      `errors over all rounds: ${errorSummary(flat)}`,
      `load generator CPU, cores (2 on this machine): ${clientCpuSummary(flat)}`,
    ],
  };
}

function valuesFor(
  systems: BenchSystem[],
  results: Map<string, Result[]>,
  mode: ReadMode,
  pick: (r: LoadResult) => number,
): Partial<Record<SystemName, number>> {
  const values: Partial<Record<SystemName, number>> = {};
  for (const s of systems) {
    const rounds = results.get(s.name)!.filter((r) => r[mode] !== undefined);
    if (rounds.length > 0) values[s.name] = medianOf(rounds, (r) => pick(r[mode]!));
  }
  return values;
}

async function preload(kv: KvDriver, keys: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, loop) => {
      for (let k = next++; k < keys; k = next++) {
        await retrying(() => kv.put(loop, `bench/get/${k}`, smallValue(loop, k)));
      }
    }),
  );
}

async function measure(
  system: BenchSystem,
  keys: number,
  durationMs: number,
  warmupMs: number,
): Promise<Result> {
  const cluster = await system.startCluster(3);
  try {
    const leader = await cluster.leader();
    const kv = kvDriver(cluster, leader, CONNECTIONS);
    try {
      await preload(kv, keys);
      const result: Result = {};
      for (const mode of MODES) {
        if (system.name === 'etcd' && mode === 'default') continue;
        result[mode] = await closedLoop(CONNECTIONS, durationMs, warmupMs, (loop) =>
          kv.get(loop, `bench/get/${Math.floor(Math.random() * keys)}`, mode),
        );
      }
      return result;
    } finally {
      await kv.close();
    }
  } finally {
    await cluster.destroy();
  }
}
