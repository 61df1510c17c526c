import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// One server process of a benchmarked system: spawned with the open-file limit raised to the hard limit
// (blocking queries hold thousands of sockets), stdout and stderr to a log file rather than a pipe the bench
// would have to drain, and killed with SIGKILL or stopped with SIGTERM. `bash -c 'ulimit …; exec …'`
// replaces the shell, so the pid is the server's own.

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited, with its code or signal. */
  readonly exited: Promise<string>;
  isRunning(): boolean;
  /** kill -9, then waits for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`, and waits for the exit. */
  stop(graceMs?: number): Promise<void>;
  /** Resident set size in bytes, from /proc/<pid>/status (VmRSS). */
  rss(): number;
  /** The end of the log, for error messages. */
  logTail(lines?: number): string;
}

/** A scratch directory for one benchmark run's data dirs and logs, on the same disk as /tmp (ext4 here, not tmpfs). */
export function scratchDir(label: string): string {
  const base = join(tmpdir(), 'tribune-bench');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${label}-`));
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

// Servers still running when the bench process exits — a crash, Ctrl-C, a closed stdout pipe — are killed
// with it, so no cluster outlives its run and loads the machine under the next measurement.
const live = new Set<{ kill(signal: NodeJS.Signals): boolean }>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));

export function spawnServer(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): ServerProcess {
  const log = openSync(logFile, 'a');
  const script = `ulimit -n "$(ulimit -Hn)"; exec ${[command, ...args].map(quote).join(' ')}`;
  const child = spawn('bash', ['-c', script], {
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env },
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  const pid = child.pid;
  live.add(child);
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(child);
      resolve(signal ?? String(code));
    });
  });
  const signalAndWait = async (signal: NodeJS.Signals) => {
    if (!running) return;
    child.kill(signal);
    await exited;
  };
  return {
    name,
    pid,
    logFile,
    exited,
    isRunning: () => running,
    kill9: () => signalAndWait('SIGKILL'),
    async stop(graceMs = 3000) {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    rss: () => rssOf(pid),
    logTail(lines = 30) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}
