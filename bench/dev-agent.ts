import { performance } from 'node:perf_hooks';
import type { BenchContext, Section } from './context.ts';
import { alternate, medianOf, roundCount } from './rounds.ts';
import { awaitDevReady, startDevAgent } from './systems/consul-api.ts';
import { type BenchSystem, chooseSystems } from './systems/index.ts';
import { sleep } from './systems/net.ts';

// dev-agent: `agent -dev` start-to-ready time (spawn → /v1/status/leader names a leader and /v1/agent/self
// answers 200, polled every 10 ms) and resident memory 1 s after ready — Tribune vs Consul.

interface Result {
  readyMs: number;
  rssMiB: number;
}

export async function run(ctx: BenchContext): Promise<Section> {
  const { systems, notes } = chooseSystems(['tribune', 'consul']);
  const rounds = roundCount(ctx.quick ? 1 : 5);
  const results = await alternate(rounds, systems, measure, ctx.log);
  const values = (pick: (r: Result) => number) =>
    Object.fromEntries(systems.map((s) => [s.name, medianOf(results.get(s.name), pick)]));
  return {
    benchmark: 'dev-agent',
    description: `\`agent -dev\` on a fresh loopback address, median of ${rounds} starts.`,
    rows: [
      { metric: 'spawn → ready, ms', better: 'lower', values: values((r) => r.readyMs) },
      { metric: 'RSS 1 s after ready, MiB', better: 'lower', digits: 1, values: values((r) => r.rssMiB) },
    ],
    notes: [
      ...notes,
      'Tribune starts as `node dist/cli/main.js agent -dev` (or through tsx without a build: see Versions); Consul as its binary.',
    ],
  };
}

async function measure(system: BenchSystem): Promise<Result> {
  const { cluster, startedAt } = await startDevAgent(system.flavor!);
  try {
    const member = cluster.members[0]!;
    await awaitDevReady(member);
    const readyMs = performance.now() - startedAt;
    await sleep(1000);
    return { readyMs, rssMiB: member.process.rss() / 2 ** 20 };
  } finally {
    await cluster.destroy();
  }
}
