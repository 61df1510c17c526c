import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram.ts';

// The closed-loop generator every request/response benchmark uses: `concurrency` loops, each sends one
// operation and the next as soon as it is answered, for `durationMs` after a warm-up whose operations are not
// counted. An operation that throws counts as an error (and its latency is not recorded).

export interface LoadResult {
  ops: number;
  /** Operations per second over the measured period. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU the load generator's process used, in cores (1 = one core busy), to show when it was the limit. */
  clientCores?: number;
  /** The first error's message, to say what went wrong. */
  firstError?: string;
}

export type Operation = (loop: number, n: number) => Promise<void>;

export async function closedLoop(
  concurrency: number,
  durationMs: number,
  warmupMs: number,
  operation: Operation,
): Promise<LoadResult> {
  const histogram = new Histogram();
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  const measureFrom = start + warmupMs;
  const end = measureFrom + durationMs;
  const loop = async (index: number) => {
    for (let n = 0; ; n++) {
      const sent = performance.now();
      if (sent >= end) return;
      try {
        await operation(index, n);
        const done = performance.now();
        if (sent >= measureFrom && done <= end) histogram.recordMs(done - sent);
      } catch (error) {
        if (sent >= measureFrom) {
          errors++;
          firstError ??= (error as Error).message;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  const cpu = process.cpuUsage(cpuBefore);
  const clientCores = (cpu.user + cpu.system) / 1000 / (performance.now() - start);
  return {
    ops: histogram.count,
    throughput: histogram.count / (durationMs / 1000),
    p50Ms: histogram.quantileMs(0.5),
    p99Ms: histogram.quantileMs(0.99),
    errors,
    clientCores,
    ...(firstError ? { firstError } : {}),
  };
}
