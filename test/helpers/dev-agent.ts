import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

// Starts a real `tribune agent -dev` process on its own loopback address with an OS-chosen HTTP port, and
// waits for the log line that says the API is listening.

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
  stop(): Promise<void>;
}

/** A random 127.x.y.z, so concurrently running test files never share an address. */
export function randomLoopback(): string {
  const octet = () => 1 + Math.floor(Math.random() * 250);
  return `127.${octet()}.${octet()}.${octet()}`;
}

export async function startDevAgent(extraArgs: string[] = []): Promise<DevAgent> {
  const host = randomLoopback();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      'agent',
      '-dev',
      '-node',
      `test-${host}`,
      '-client',
      host,
      '-bind',
      host,
      '-http-port',
      '0',
      '-log-json',
      ...extraArgs,
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
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
