// Alternating rounds: Tribune, reference, Tribune, reference… so that drift on a shared machine (other
// work, thermal, page cache) falls on every system alike; each figure is the median of its rounds.

export async function alternate<S extends { name: string }, T>(
  rounds: number,
  systems: S[],
  measure: (system: S, round: number) => Promise<T>,
  log: (line: string) => void = (line) => console.log(line),
): Promise<Map<string, T[]>> {
  const results = new Map<string, T[]>(systems.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const system of systems) {
      const started = Date.now();
      const result = await measure(system, round);
      results.get(system.name)!.push(result);
      log(
        `  round ${round + 1}/${rounds} ${system.name}: ${summarize(result)} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  }
  return results;
}

/** A benchmark's round count; TRIBUNE_BENCH_ROUNDS overrides it (e.g. one full-length round to profile). */
export function roundCount(rounds: number): number {
  return Number(process.env.TRIBUNE_BENCH_ROUNDS) || rounds;
}

export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** The median of one numeric field over a system's rounds. */
export function medianOf<T>(results: T[] | undefined, pick: (r: T) => number): number {
  return median((results ?? []).map(pick));
}

function summarize(result: unknown): string {
  if (typeof result === 'number') return String(Number(result.toPrecision(4)));
  if (typeof result !== 'object' || result === null) return String(result);
  return Object.entries(result)
    .filter(([, v]) => typeof v === 'number' || (typeof v === 'object' && v !== null))
    .map(([k, v]) => (typeof v === 'object' ? `${k}{${summarize(v)}}` : `${k}=${summarize(v)}`))
    .join(' ');
}

/** Setup steps (not measured) retry: a write refused during an election is tried again, up to `attempts`. */
export async function retrying<T>(step: () => Promise<T>, attempts = 50, delayMs = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** "tribune 0, consul 3 (first: …)" over every round's results, for a section's notes. */
export function errorSummary<T extends { errors: number; firstError?: string }>(
  results: Map<string, T[]>,
): string {
  return [...results]
    .map(([name, rounds]) => {
      const errors = rounds.reduce((n, r) => n + r.errors, 0);
      const first = rounds.find((r) => r.firstError)?.firstError;
      return `${name} ${errors}${first ? ` (first: ${first.slice(0, 160)})` : ''}`;
    })
    .join(', ');
}

/** "tribune 0.9, consul 0.7": the load generator's CPU (cores) per system, median over rounds. */
export function clientCpuSummary<T extends { clientCores?: number }>(results: Map<string, T[]>): string {
  return [...results]
    .map(([name, rounds]) => `${name} ${medianOf(rounds, (r) => r.clientCores ?? Number.NaN).toFixed(2)}`)
    .join(', ');
}
