import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { promisify } from 'node:util';
import { randomLoopback } from './dev-agent.ts';

// A real `serf agent` (Debian's serf 0.9.4) on its own loopback address, with waits on its log and its CLI.

const execFileAsync = promisify(execFile);
export const WAIT_MS = 15_000;
export const randomPort = () => 20_000 + Math.floor(Math.random() * 40_000);

/** Resolves when `check` returns a value, re-checking on each `event` of `emitter`; rejects on timeout. */
export function waitFor<T>(
  emitter: EventEmitter,
  event: string,
  check: () => T | undefined,
  what: string,
): Promise<T> {
  const ready = check();
  if (ready !== undefined) return Promise.resolve(ready);
  return new Promise((resolve, reject) => {
    const onEvent = () => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      emitter.off(event, onEvent);
      resolve(value);
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    emitter.on(event, onEvent);
  });
}

export interface SerfAgent {
  name: string;
  host: string;
  port: number;
  rpcAddr: string;
  output(): string;
  /** Waits for a log line matching `pattern` printed after offset `since`. */
  waitForLog(pattern: RegExp, since?: number): Promise<RegExpExecArray>;
  /** Runs a serf CLI command against this agent's RPC address and returns stdout. */
  cli(command: string, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startSerf(name: string, extraArgs: string[]): Promise<SerfAgent> {
  const host = randomLoopback();
  const port = randomPort();
  const rpcAddr = `${host}:${port + 1}`;
  const child: ChildProcess = spawn(
    'serf',
    [
      'agent',
      `-node=${name}`,
      `-bind=${host}:${port}`,
      `-rpc-addr=${rpcAddr}`,
      '-log-level=debug',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const events = new EventEmitter();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    events.emit('output');
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const agent: SerfAgent = {
    name,
    host,
    port,
    rpcAddr,
    output: () => output,
    waitForLog: (pattern, since = 0) =>
      waitFor(
        events,
        'output',
        () => pattern.exec(output.slice(since)) ?? undefined,
        `serf to log ${pattern}`,
      ),
    cli: async (command, ...args) =>
      (await execFileAsync('serf', [command, `-rpc-addr=${rpcAddr}`, ...args])).stdout,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
  const exited = once(child, 'exit').then(() => {
    throw new Error(`serf exited before it was running:\n${output}`);
  });
  await Promise.race([agent.waitForLog(/Serf agent running!/), exited]);
  return agent;
}
