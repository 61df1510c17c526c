import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './http.ts';

// A `tribune watch` process whose handler records each run (CONSUL_INDEX and the JSON on stdin) as a file of
// its own, written whole, so a test can read every run in order.

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface HandlerRun {
  index: string;
  json: string;
}

export interface WatchProcess {
  process: ChildProcess;
  /** Where the runs are recorded (`$f` in the handler is this directory plus the run's timestamp). */
  dir: string;
  /** The runs so far, oldest first. */
  runs(): HandlerRun[];
  /** Waits until there are `count` runs and returns them. */
  awaitRuns(count: number, timeoutMs?: number): Promise<HandlerRun[]>;
  stderr(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `tribune watch <watchArgs> <handler>` against `addr`. The handler records its run, then runs
 * `after` (shell code, e.g. `exit 3` or `sleep 60`).
 */
export function startWatch(addr: string, watchArgs: string[], after = ''): WatchProcess {
  const dir = mkdtempSync(join(tmpdir(), 'tribune-watch-runs-'));
  const record =
    `f="${dir}/$(date +%s%N)"; { printf '%s\\n' "$CONSUL_INDEX"; cat; } > "$f.tmp" && mv "$f.tmp" "$f.run"; ` +
    after;
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(CONSUL|TRIBUNE)_/.test(name)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'watch', ...watchArgs, record], {
    env: { ...env, CONSUL_HTTP_ADDR: addr },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const runs = () =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.run'))
      .sort()
      .map((name) => {
        const [index = '', json = ''] = readFileSync(join(dir, name), 'utf8').split('\n');
        return { index, json };
      });
  return {
    process: child,
    dir,
    runs,
    awaitRuns: async (count, timeoutMs = 20_000) => {
      try {
        return await eventually(
          `${count} handler runs`,
          async () => (runs().length >= count ? runs() : undefined),
          timeoutMs,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}; the watch wrote: ${stderr}`);
      }
    },
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
