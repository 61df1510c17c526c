import { readFileSync } from 'node:fs';
import { sleep } from './net.ts';

// CPU time of a process from /proc/<pid>/stat, to tell when a server has finished the work it was handed
// (e.g. registering thousands of blocking queries) before its memory is read.

const TICKS_PER_SECOND = 100;

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Waits until the process used under 5% of a core over 500 ms (or `timeoutMs` passed). */
export async function awaitQuiet(pid: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let before = cpuSeconds(pid);
  while (Date.now() < deadline) {
    await sleep(500);
    const now = cpuSeconds(pid);
    if (now - before < 0.025) return;
    before = now;
  }
}
