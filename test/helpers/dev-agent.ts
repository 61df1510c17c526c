import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

// Starts real `tribune agent` processes (a dev agent, or a server of a cluster) on their own loopback
// address with an OS-chosen HTTP port, and waits for the log line that says the API is listening.

// The sources, through tsx: tests exercise the code as it is, never a stale build.
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface DevAgent {
  /** host:port of the HTTP API. */
  httpAddr: string;
  host: string;
  port: number;
  process: ChildProcess;
  /** Everything the agent printed so far. */
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  /** kill -9, then waits for the exit. */
  kill(): Promise<void>;
}

/** A random 127.x.y.z, so concurrently running test files never share an address. */
export function randomLoopback(): string {
  const octet = () => 1 + Math.floor(Math.random() * 250);
  return `127.${octet()}.${octet()}.${octet()}`;
}

export function startDevAgent(extraArgs: string[] = []): Promise<DevAgent> {
  return startAgent(randomLoopback(), ['-dev', ...extraArgs]);
}

/**
 * Runs `tribune agent <args>` bound to `host`, with its HTTP API on a free port of that address. `launcher`
 * prefixes the command, as `ip netns exec <ns>` does to run the agent in a network namespace.
 */
export async function startAgent(host: string, args: string[], launcher: string[] = []): Promise<DevAgent> {
  const [command, ...prefix] = [...launcher, process.execPath];
  const child = spawn(
    command!,
    [
      ...prefix,
      '--import',
      'tsx',
      MAIN,
      'agent',
      '-node',
      `test-${host}`,
      '-client',
      host,
      '-bind',
      host,
      '-http-port',
      '0',
      '-log-json',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const listening = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match =
        /"address":"([^"]+)","msg":"HTTP API listening"|"msg":"HTTP API listening".*?"address":"([^"]+)"/.exec(
          output,
        );
      if (match) resolve(match[1] ?? match[2]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code} before listening:\n${output}`)));
  });
  const httpAddr = await listening;
  const port = Number(httpAddr.split(':').pop());
  return {
    httpAddr,
    host,
    port,
    process: child,
    output: () => output,
    stop: () => signal(child, 'SIGTERM'),
    kill: () => signal(child, 'SIGKILL'),
  };
}

async function signal(child: ChildProcess, name: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(name);
  await exited;
}
