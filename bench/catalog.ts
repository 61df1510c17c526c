import type { BenchContext, Section } from './context.ts';
import { registerInstances } from './load/catalog.ts';
import { closedLoop, type LoadResult } from './load/closed-loop.ts';
import { HttpTarget } from './load/http-client.ts';
import { alternate, clientCpuSummary, errorSummary, medianOf, roundCount } from './rounds.ts';
import { clusterRss } from './systems/cluster.ts';
import { CONSUL_SETTINGS } from './systems/consul.ts';
import { type BenchSystem, chooseSystems } from './systems/index.ts';

// catalog: 5,000 instances of service `web` (500 nodes × 10, registered through /v1/catalog/register) on a
// 3-server cluster; throughput and p99 of /v1/health/service/web?passing (every instance in each answer)
// from the leader, and the three servers' resident memory afterwards — Tribune vs Consul.

const CONNECTIONS = 16;
const PER_NODE = 10;

interface Result extends LoadResult {
  rssMiB: number;
}

export async function run(ctx: BenchContext): Promise<Section> {
  const { systems, notes } = chooseSystems(['tribune', 'consul']);
  const rounds = roundCount(ctx.quick ? 1 : 3);
  const instances = ctx.quick ? 500 : 5000;
  const durationMs = ctx.quick ? 1500 : 10_000;
  const warmupMs = ctx.quick ? 300 : 2000;
  const results = await alternate(
    rounds,
    systems,
    (system) => measure(system, instances, durationMs, warmupMs),
    ctx.log,
  );
  const values = (pick: (r: Result) => number) =>
    Object.fromEntries(systems.map((s) => [s.name, medianOf(results.get(s.name), pick)]));
  return {
    benchmark: 'catalog',
    description: `3-server clusters, ${instances.toLocaleString('en-US')} instances of web (${instances / PER_NODE} nodes × ${PER_NODE}), GET /v1/health/service/web?passing on the leader over ${CONNECTIONS} connections, median of ${rounds} × ${durationMs / 1000} s.`,
    rows: [
      { metric: 'health queries/s', better: 'higher', digits: 1, values: values((r) => r.throughput) },
      { metric: 'health p99 ms', better: 'lower', digits: 1, values: values((r) => r.p99Ms) },
      { metric: "3 servers' RSS, MiB", better: 'lower', values: values((r) => r.rssMiB) },
    ],
    notes: [
      ...notes,
      'Instances registered without checks (so all pass); each answer carries every instance with its node.',
      'RSS is the sum over the three servers, read after the query load.',
      `errors over all rounds: ${errorSummary(results)}`,
      `load generator CPU, cores (2 on this machine): ${clientCpuSummary(results)}`,
      CONSUL_SETTINGS,
    ],
  };
}

async function measure(
  system: BenchSystem,
  instances: number,
  durationMs: number,
  warmupMs: number,
): Promise<Result> {
  const cluster = await system.startCluster(3);
  try {
    const leader = await cluster.leader();
    const target = new HttpTarget(leader.url, CONNECTIONS);
    try {
      await registerInstances(target, 'web', instances, PER_NODE, CONNECTIONS);
      const path = '/v1/health/service/web?passing';
      const first = JSON.parse((await target.expectOk('GET', path)).body) as unknown[];
      if (first.length !== instances)
        throw new Error(`${system.name}: ${first.length} of ${instances} instances`);
      const load = await closedLoop(CONNECTIONS, durationMs, warmupMs, async () => {
        await target.expectOk('GET', path);
      });
      return { ...load, rssMiB: clusterRss(cluster) / 2 ** 20 };
    } finally {
      await target.close();
    }
  } finally {
    await cluster.destroy();
  }
}
