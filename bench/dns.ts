import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dnsLoad, type LoadResult } from './load/dns-load.ts';

// bench/dns: queries per second and p99 for web.service.consul (10 instances) on one dev agent, Tribune beside
// Consul's own DNS when the Consul reference binary is in ~/.cache/tribune-peers (scripts/install-test-peers.sh
// builds it); the same load generator drives both, runs alternate, and the table prints the ratio.
//
//   npm run bench -- dns            # 3 rounds of 10 s each
//   npm run bench -- dns --quick    # one 2 s round (CI's smoke run)

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = 64;

interface System {
  name: string;
  start(host: string, httpPort: number, dnsPort: number): ChildProcess;
}

const tribune: System = {
  name: 'tribune',
  start: (host, httpPort, dnsPort) => {
    const compiled = join(ROOT, 'dist/cli/main.js');
    const entry = existsSync(compiled) ? [compiled] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
    return spawn(process.execPath, [...entry, 'agent', '-dev', ...agentFlags(host, httpPort, dnsPort)], {
      stdio: 'ignore',
    });
  },
};

function consulReference(): System | undefined {
  const cache = join(homedir(), '.cache/tribune-peers');
  const binary = existsSync(cache)
    ? readdirSync(cache).find((name) => name.startsWith('consul-'))
    : undefined;
  if (!binary) return undefined;
  return {
    name: 'consul',
    start: (host, httpPort, dnsPort) =>
      spawn(join(cache, binary), ['agent', '-dev', ...agentFlags(host, httpPort, dnsPort)], {
        stdio: 'ignore',
      }),
  };
}

const agentFlags = (host: string, httpPort: number, dnsPort: number) => [
  '-bind',
  host,
  '-client',
  host,
  '-http-port',
  String(httpPort),
  '-dns-port',
  String(dnsPort),
  '-serf-lan-port',
  String(dnsPort + 1),
  '-serf-wan-port',
  String(dnsPort + 2),
  '-server-port',
  String(dnsPort + 3),
  '-node',
  `bench-${host}`,
];

async function measure(system: System, durationMs: number, round: number): Promise<LoadResult> {
  const host = `127.77.${round}.${system.name === 'tribune' ? 1 : 2}`;
  const httpPort = 18500;
  const dnsPort = 18600;
  const child = system.start(host, httpPort, dnsPort);
  try {
    await waitForApi(host, httpPort);
    for (let i = 0; i < 10; i++) {
      const body = { Node: `web-${i}`, Address: `10.0.0.${i + 1}`, Service: { Service: 'web', Port: 8080 } };
      await fetch(`http://${host}:${httpPort}/v1/catalog/register`, {
        method: 'PUT',
        body: JSON.stringify(body),
      });
    }
    // Warm up, then measure.
    await dnsLoad({ host, port: dnsPort }, 'web.service.consul', CONCURRENCY, 500);
    return await dnsLoad({ host, port: dnsPort }, 'web.service.consul', CONCURRENCY, durationMs);
  } finally {
    child.kill('SIGKILL');
  }
}

async function waitForApi(host: string, port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}:${port}/v1/status/leader`);
      if (res.ok && (await res.text()) !== '""') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`no agent answering on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function run(quick: boolean): Promise<void> {
  const systems = [tribune, consulReference()].filter((s): s is System => s !== undefined);
  const rounds = quick ? 1 : 3;
  const durationMs = quick ? 2000 : 10_000;
  const results = new Map<string, LoadResult[]>(systems.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const system of systems) results.get(system.name)!.push(await measure(system, durationMs, round));
  }
  const best = (name: string) => results.get(name)!.reduce((a, b) => (b.qps > a.qps ? b : a));
  console.log(
    `bench dns: web.service.consul (10 instances), UDP, ${CONCURRENCY} in flight, ${rounds}×${durationMs / 1000}s`,
  );
  console.log('| system | queries/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|');
  for (const system of systems) {
    const r = best(system.name);
    console.log(
      `| ${system.name} | ${r.qps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`,
    );
  }
  if (systems.length > 1) {
    const ours = best('tribune');
    const theirs = best('consul');
    console.log(
      `ratio tribune/consul: qps ${(ours.qps / theirs.qps).toFixed(2)}, p99 ${(theirs.p99Ms / ours.p99Ms).toFixed(2)} (>1 is better)`,
    );
  } else {
    console.log('consul reference binary not found in ~/.cache/tribune-peers: no ratio (Tribune alone)');
  }
}
