import type { BenchContext, Section } from './context.ts';
import { registerInstances } from './load/catalog.ts';
import type { LoadResult } from './load/closed-loop.ts';
import { dnsLoad } from './load/dns-load.ts';
import { dnsperf, dnsperfAvailable } from './load/dnsperf.ts';
import { HttpTarget } from './load/http-client.ts';
import { alternate, medianOf, roundCount } from './rounds.ts';
import { CONSUL_SETTINGS } from './systems/consul.ts';
import { awaitDevReady, startDevAgent } from './systems/consul-api.ts';
import { type BenchSystem, chooseSystems } from './systems/index.ts';
import { removeDir, scratchDir } from './systems/process.ts';

// dns: queries per second and latency for web.service.consul (A records of a 10-instance service) on one
// dev agent each, Tribune vs Consul, driven by dnsperf over UDP (the Node generator in load/dns-load.ts only
// when dnsperf is missing, and the notes say so).

const IN_FLIGHT = 64;
const DNS_PORT = 8600;

export async function run(ctx: BenchContext): Promise<Section> {
  const { systems, notes } = chooseSystems(['tribune', 'consul']);
  const rounds = roundCount(ctx.quick ? 1 : 3);
  const seconds = ctx.quick ? 2 : 10;
  const withDnsperf = dnsperfAvailable();
  const results = await alternate(
    rounds,
    systems,
    (system) => measure(system, seconds, withDnsperf),
    ctx.log,
  );
  const values = (pick: (r: LoadResult) => number) =>
    Object.fromEntries(systems.map((s) => [s.name, medianOf(results.get(s.name), pick)]));
  const errors = systems.map((s) => `${s.name} ${results.get(s.name)!.reduce((n, r) => n + r.errors, 0)}`);
  return {
    benchmark: 'dns',
    description: `One dev agent each, web.service.consul A (10 instances) over UDP, ${IN_FLIGHT} queries in flight, median of ${rounds} × ${seconds} s.`,
    rows: [
      { metric: 'queries/s', better: 'higher', values: values((r) => r.throughput) },
      { metric: 'p50 ms', better: 'lower', digits: 2, values: values((r) => r.p50Ms) },
      { metric: 'p99 ms', better: 'lower', digits: 2, values: values((r) => r.p99Ms) },
    ],
    notes: [
      ...notes,
      withDnsperf
        ? 'Load generator: dnsperf (-c 4 -q 64 -T 1, per-query latencies from -v).'
        : 'dnsperf is not installed (apt-get install dnsperf): the Node UDP generator (bench/load/dns-load.ts) ran instead.',
      `errors (non-NOERROR answers and lost queries) over all rounds: ${errors.join(', ')}`,
      CONSUL_SETTINGS,
    ],
  };
}

async function measure(system: BenchSystem, seconds: number, withDnsperf: boolean): Promise<LoadResult> {
  const { cluster } = await startDevAgent(system.flavor!);
  const member = cluster.members[0]!;
  const control = new HttpTarget(member.url, 4);
  const scratch = scratchDir('dns');
  try {
    await awaitDevReady(member);
    await registerInstances(control, 'web', 10, 1);
    const server = { host: member.host, port: DNS_PORT };
    const name = 'web.service.consul';
    if (withDnsperf) {
      await dnsperf(server, name, { seconds: 1, clients: 4, outstanding: IN_FLIGHT, scratch }); // warm-up
      return await dnsperf(server, name, { seconds, clients: 4, outstanding: IN_FLIGHT, scratch });
    }
    await dnsLoad(server, name, IN_FLIGHT, 1000);
    return await dnsLoad(server, name, IN_FLIGHT, seconds * 1000);
  } finally {
    await control.close();
    await cluster.destroy();
    removeDir(scratch);
  }
}
