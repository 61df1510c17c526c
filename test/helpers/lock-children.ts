import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DevAgent, startDevAgent } from './dev-agent.ts';
import { api, eventually } from './http.ts';

// `tribune lock` processes whose children record "start <id>", "stop <id>" (and "term <id>" when sent
// SIGTERM) in one shared file, each child running until the test releases it.

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface LockProcess {
  id: string;
  process: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the lock command has exited. */
  exited: Promise<number | null>;
}

export class LockChildren {
  readonly dir = mkdtempSync(join(tmpdir(), 'tribune-lock-'));
  private readonly started: LockProcess[] = [];

  constructor(private readonly addr: string) {}

  /** Runs `tribune lock <args> <prefix> <child>` whose child is named `id`. */
  start(id: string, prefix: string, args: string[] = []): LockProcess {
    const record = join(this.dir, 'record');
    const child =
      `trap 'echo term ${id} >> ${record}; exit 0' TERM; echo "start ${id} $CONSUL_LOCK_HELD" >> ${record}; ` +
      `while [ ! -e ${join(this.dir, `release-${id}`)} ]; do sleep 0.05; done; echo stop ${id} >> ${record}`;
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(CONSUL|TRIBUNE)_/.test(name)),
    );
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'lock', ...args, prefix, child], {
      env: { ...env, CONSUL_HTTP_ADDR: this.addr },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const started = { id, process: proc, output: () => output, exited };
    this.started.push(started);
    return started;
  }

  /** The record so far, one event per line ("start a true", "stop a", "term a"). */
  record(): string[] {
    const file = join(this.dir, 'record');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
  }

  /** Ids of the children that started and have not stopped (or been terminated). */
  running(): string[] {
    const running = new Set<string>();
    for (const line of this.record()) {
      const [what, id] = line.split(' ');
      if (what === 'start') running.add(id!);
      else running.delete(id!);
    }
    return [...running];
  }

  /** The most children that ever ran at once, by the record. */
  maxConcurrent(): number {
    let now = 0;
    let most = 0;
    for (const line of this.record()) {
      now += line.startsWith('start') ? 1 : -1;
      most = Math.max(most, now);
    }
    return most;
  }

  release(id: string): void {
    writeFileSync(join(this.dir, `release-${id}`), '');
  }

  awaitRunning(count: number, timeoutMs = 20_000): Promise<string[]> {
    return eventually(
      `${count} children running`,
      async () => {
        const running = this.running();
        return running.length === count ? running : undefined;
      },
      timeoutMs,
    );
  }

  /** Stops what still runs as a user would (SIGTERM: the lock stops its child and lets go), then tidies. */
  async cleanup(): Promise<void> {
    await Promise.all(
      this.started.map(async ({ process: proc, exited }) => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        await exited;
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface KvPair {
  Key: string;
  Flags: number;
  Session?: string;
  Value: string | null;
}

/** The pairs under `prefix` (none: an empty list). */
export async function kvPairs(addr: string, prefix: string): Promise<KvPair[]> {
  const res = await api(addr, 'GET', `/v1/kv/${prefix}?recurse`);
  return res.status === 404 ? [] : res.json<KvPair[]>();
}

/** The raw text of the pairs under `prefix`, so 64-bit flags are compared exactly. */
export async function rawKvPairs(addr: string, prefix: string): Promise<string> {
  return (await api(addr, 'GET', `/v1/kv/${prefix}?recurse`)).text;
}

/** Hooks for a suite of lock tests: one dev agent for the suite, fresh lock processes for each test. */
export function lockSuite(): { readonly agent: DevAgent; readonly children: LockChildren } {
  const suite = {} as { agent: DevAgent; children: LockChildren };
  before(async () => {
    suite.agent = await startDevAgent();
  });
  beforeEach(() => {
    suite.children = new LockChildren(suite.agent.httpAddr);
  });
  afterEach(() => suite.children.cleanup());
  after(async () => {
    await suite.agent?.stop();
  });
  return suite;
}
