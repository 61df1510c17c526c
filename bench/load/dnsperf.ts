import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LoadResult } from './closed-loop.ts';
import { Histogram } from './histogram.ts';

// Debian's dnsperf (scripts/install-test-peers.sh installs it) as the DNS load generator: UDP, `clients`
// sockets with `outstanding` queries in flight, for `seconds`. Queries/s come from its statistics; latency
// percentiles from its verbose per-query lines ("> NOERROR name A 0.000123"), written to a file and read
// afterwards so that parsing costs no CPU while the servers are measured.

export function dnsperfAvailable(): boolean {
  return spawnSync('dnsperf', ['-h'], { stdio: 'ignore' }).error === undefined;
}

export async function dnsperf(
  server: { host: string; port: number },
  name: string,
  options: { seconds: number; clients: number; outstanding: number; scratch: string },
): Promise<LoadResult> {
  const queries = join(options.scratch, 'dnsperf-queries.txt');
  const output = join(options.scratch, 'dnsperf-output.txt');
  writeFileSync(queries, `${name} A\n`);
  const args = ['-s', server.host, '-p', String(server.port), '-d', queries, '-l', String(options.seconds)];
  args.push('-c', String(options.clients), '-q', String(options.outstanding), '-T', '1', '-v');
  const child = spawn('bash', [
    '-c',
    `exec dnsperf "$@" > ${JSON.stringify(output)} 2>&1`,
    'dnsperf',
    ...args,
  ]);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const histogram = new Histogram();
  let qps = Number.NaN;
  let errors = 0;
  let lost = 0;
  const lines = createInterface({ input: createReadStream(output) });
  for await (const line of lines) {
    if (line.startsWith('> ')) {
      const parts = line.split(' ');
      if (parts[1] !== 'NOERROR') errors++;
      histogram.recordMs(Number(parts[parts.length - 1]) * 1000);
    } else if (line.includes('Queries per second:')) {
      qps = Number(line.split(':')[1]);
    } else if (line.includes('Queries lost:')) {
      lost = Number(/Queries lost:\s+(\d+)/.exec(line)?.[1] ?? 0);
    }
  }
  if (code !== 0 || Number.isNaN(qps)) throw new Error(`dnsperf exited with ${code}; output in ${output}`);
  return {
    ops: histogram.count,
    throughput: qps,
    p50Ms: histogram.quantileMs(0.5),
    p99Ms: histogram.quantileMs(0.99),
    errors: errors + lost,
  };
}
