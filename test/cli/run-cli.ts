import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Runs the CLI as a child process, the way users' scripts do. It runs the sources through tsx, as
// bin/tribune.js does when there is no build, so tests never exercise a stale dist/.

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for binary values. */
  raw: Buffer;
}

export interface CliOptions {
  /** The agent's host:port, passed as CONSUL_HTTP_ADDR. */
  addr?: string;
  stdin?: string | Buffer;
  env?: Record<string, string>;
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  // Start from an environment without any agent settings of the machine running the tests.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(CONSUL|TRIBUNE)_/.test(name)),
  );
  if (options.addr) env.CONSUL_HTTP_ADDR = options.addr;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.end(options.stdin ?? '');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const raw = Buffer.concat(out);
  return { code, stdout: raw.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), raw };
}

/** Runs a command expected to succeed and returns its stdout. */
export async function ok(args: string[], options: CliOptions = {}): Promise<string> {
  const result = await runCli(args, options);
  if (result.code !== 0) {
    throw new Error(
      `tribune ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
  return result.stdout;
}
