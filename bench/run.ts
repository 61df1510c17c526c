import type { BenchContext, Section } from './context.ts';
import { resultsDir, writeResults } from './report/results.ts';
import { sectionMarkdown, summaryTable } from './report/table.ts';
import { distIsStale, tribuneEntry, tribuneVersion } from './systems/tribune.ts';

// `npm run bench [-- <name>...] [--quick]`: runs bench/<name>.ts (every benchmark when none is named) and
// prints each one's table. A full run of every benchmark rewrites bench/results/latest.md and ratios.png;
// --quick (CI's smoke run) and runs of named benchmarks write to a scratch directory instead.

const BENCHMARKS = ['kv-put', 'kv-get', 'blocking', 'dns', 'failover', 'catalog', 'dev-agent'];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
for (const name of names) {
  if (!BENCHMARKS.includes(name)) {
    console.error(`unknown benchmark "${name}"; known: ${BENCHMARKS.join(', ')}`);
    process.exit(1);
  }
}
const selected = names.length > 0 ? BENCHMARKS.filter((b) => names.includes(b)) : BENCHMARKS;
// Runs narrowed by TRIBUNE_BENCH_SYSTEMS or TRIBUNE_BENCH_ROUNDS (profiling) are not full runs either.
const full =
  !quick && names.length === 0 && !process.env.TRIBUNE_BENCH_SYSTEMS && !process.env.TRIBUNE_BENCH_ROUNDS;

const entry = tribuneEntry();
console.log(`Tribune runs from ${entry.kind === 'dist' ? 'dist/ (npm run build)' : 'src/ through tsx'}`);
if (entry.kind === 'dist' && distIsStale()) {
  console.log('warning: src/ has files newer than dist/: run `npm run build` to benchmark the current code');
}

const tribune = tribuneVersion();
console.log(`Tribune ${tribune}`);
const ctx: BenchContext = { quick, log: (line) => console.log(line) };
const started = Date.now();
const sections: Section[] = [];
const failures: string[] = [];
for (const name of selected) {
  console.log(`\n== ${name}${quick ? ' (quick)' : ''}`);
  const t0 = Date.now();
  try {
    const { run } = (await import(`./${name}.ts`)) as { run(ctx: BenchContext): Promise<Section> };
    const section = await run(ctx);
    sections.push(section);
    console.log(`\n${sectionMarkdown(section)}\n(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  } catch (error) {
    failures.push(name);
    console.error(`bench ${name} failed: ${(error as Error).stack ?? error}`);
  }
}
const elapsedS = (Date.now() - started) / 1000;
console.log(`\n== summary (${elapsedS.toFixed(0)} s)\n\n${summaryTable(sections)}`);
const dir = resultsDir(full);
await writeResults(sections, dir, { quick, elapsedS, failures, benchmarks: selected, tribune });
console.log(`\nresults written to ${dir}${full ? '' : ' (not a full run: bench/results/ left as it was)'}`);
if (failures.length > 0) {
  console.error(`failed: ${failures.join(', ')}`);
  process.exit(1);
}
