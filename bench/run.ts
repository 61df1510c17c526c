// `npm run bench [-- <name>...] [--quick]`: runs bench/<name>.ts (every benchmark when none is named).

const BENCHMARKS = ['dns'];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
for (const name of names.length > 0 ? names : BENCHMARKS) {
  if (!BENCHMARKS.includes(name)) {
    console.error(`unknown benchmark "${name}"; known: ${BENCHMARKS.join(', ')}`);
    process.exit(1);
  }
  const { run } = (await import(`./${name}.ts`)) as { run(quick: boolean): Promise<void> };
  await run(quick);
}
