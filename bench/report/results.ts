import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerBinary, peerVersion } from '../peers.ts';
import { ratioSvg, renderPng } from './chart.ts';
import { machine, otherWorkRan } from './machine.ts';
import { type Section, sectionMarkdown, summaryTable } from './table.ts';

// bench/results/latest.md (the tables, the machine, the versions, the date) and ratios.png, rewritten by a
// full run; other runs write the same files to a scratch directory.

const RESULTS = fileURLToPath(new URL('../results', import.meta.url));

export interface RunInfo {
  quick: boolean;
  elapsedS: number;
  failures: string[];
  benchmarks: string[];
  /** tribuneVersion() when the run started. */
  tribune: string;
}

export function resultsDir(full: boolean): string {
  const dir = full ? RESULTS : join(tmpdir(), 'tribune-bench', 'results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

const BIOME = fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url));

/**
 * The repository's formatter pads markdown tables and `npm run lint` checks bench/**, so latest.md is written
 * in the form Biome gives it (as bench/results/latest.md, wherever it is written). Without dev dependencies
 * the text stays as generated.
 */
function formatMarkdown(text: string): string {
  if (!existsSync(BIOME)) return text;
  const result = spawnSync(BIOME, ['format', '--stdin-file-path=bench/results/latest.md'], {
    input: text,
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    encoding: 'utf8',
  });
  if (result.status !== 0 || !result.stdout) {
    console.log(`biome could not format latest.md: ${result.stderr || result.stdout}`);
    return text;
  }
  return result.stdout;
}

const gib = (n: number) => `${n.toFixed(1)} GiB`;

export async function writeResults(sections: Section[], dir: string, run: RunInfo): Promise<void> {
  const m = machine();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const reference = (name: 'consul' | 'etcd') =>
    `${name} ${peerVersion(name)}${peerBinary(name) ? '' : ' (binary missing: not run)'}`;
  const busy = otherWorkRan(m)
    ? `Measured while other work ran on the machine (1-minute load average ${m.loadAtStart[0]!.toFixed(2)} before the first benchmark started a server), so figures are noisy; the alternating rounds give every system the same conditions on average.`
    : 'The machine was otherwise idle when the run began (1-minute load average below 0.5).';
  const extraNote = process.env.TRIBUNE_BENCH_NOTE ? [`- ${process.env.TRIBUNE_BENCH_NOTE}`] : [];
  const text = [
    '# Tribune benchmark results',
    '',
    `\`npm run bench${run.quick ? ' -- --quick' : ''}\` on ${date}, ${run.elapsedS.toFixed(0)} s. Ratios are oriented so that ≥ 1 means Tribune is ahead (▼ marks the rows where it is behind); every figure is the median of alternating rounds (Tribune, reference, Tribune, …). Chart: \`ratios.png\`.`,
    '',
    '## Summary',
    '',
    summaryTable(sections),
    '',
    '## Machine',
    '',
    `- ${m.cpus} CPUs (${m.cpuModel}), ${gib(m.memoryGiB)} memory, Linux ${m.kernel}`,
    `- load average before / after: ${m.loadAtStart.map((l) => l.toFixed(2)).join(' ')} / ${m.loadAtEnd.map((l) => l.toFixed(2)).join(' ')}`,
    `- ${busy}`,
    '- Servers and the load generator share the machine: every system is measured with the same generator on the same cores.',
    ...extraNote,
    '',
    '## Versions',
    '',
    `- Tribune ${run.tribune}, Node ${process.version}`,
    `- ${reference('consul')}, ${reference('etcd')} (scripts/peers/versions.env; built by scripts/install-test-peers.sh)`,
    '',
    '## Benchmarks',
    '',
    ...sections.flatMap((s) => [sectionMarkdown(s), '']),
    ...(run.failures.length > 0 ? [`Failed benchmarks (no rows): ${run.failures.join(', ')}`, ''] : []),
  ].join('\n');
  writeFileSync(join(dir, 'latest.md'), formatMarkdown(text));
  const svg = ratioSvg(sections, `Tribune vs Consul and etcd — ${date}`);
  writeFileSync(join(dir, 'ratios.png'), await renderPng(svg));
}
