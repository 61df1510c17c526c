// What a benchmark is told when it runs, and what it must return (report/table.ts's Section).

export interface BenchContext {
  /** The smoke run: one short round per system, smaller sizes; must keep the whole suite under 3 minutes. */
  readonly quick: boolean;
  log(line: string): void;
}

export type { Section } from './report/table.ts';
