import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

// The machine a run measured on, for latest.md. The load average is sampled when this module loads (before
// any benchmark starts a server), so a busy machine — other work beside the bench — shows in the report.

const loadAtStart = loadavg();

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  loadAtStart: number[];
  loadAtEnd: number[];
}

export function machine(): Machine {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    cpus: availableParallelism(),
    cpuModel,
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    loadAtStart,
    loadAtEnd: loadavg(),
  };
}

/** True when something else kept the machine busy before the bench began (1-minute load above 0.5). */
export function otherWorkRan(m: Machine): boolean {
  return m.loadAtStart[0]! > 0.5;
}
