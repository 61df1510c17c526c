import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';

// Commands users give Consul's CLI and agent (watch handlers, `consul lock` children), started the way
// Consul's agent/exec starts them: through `$SHELL -c` (default /bin/sh) with the words joined by spaces, or
// as a raw argv. Each runs in a process group of its own, so stopping it also stops what its shell started.

/** The program and arguments for `words`: `sh -c "<words>"` with `shell`, else the words themselves. */
export function commandLine(words: readonly string[], shell: boolean): [string, string[]] {
  if (!shell) return [words[0]!, words.slice(1)];
  return [process.env.SHELL || '/bin/sh', ['-c', words.join(' ')]];
}

/** Spawns `words` as the leader of a new process group. */
export function spawnCommand(words: readonly string[], shell: boolean, options: SpawnOptions): ChildProcess {
  const [file, args] = commandLine(words, shell);
  return spawn(file, args, { ...options, detached: true });
}

/** Resolves with the exit code (or the killing signal) once the child has exited; a failed spawn rejects. */
export async function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode };
  }
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  return { code, signal };
}

/** Signals the child's whole process group; false when it is already gone. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the child as Consul's lock stops its child: SIGTERM to let it clean up, then SIGKILL once `graceMs`
 * has passed (after calling `onKill`). Resolves once it has exited.
 */
export async function terminate(child: ChildProcess, graceMs: number, onKill = () => {}): Promise<void> {
  const done = exited(child).catch(() => undefined);
  if (!signalGroup(child, 'SIGTERM')) return void (await done);
  const timer = setTimeout(() => {
    onKill();
    signalGroup(child, 'SIGKILL');
  }, graceMs);
  await done;
  clearTimeout(timer);
}

/** Go's exec error text for a finished process: "exit status 2", "signal: killed". */
export function exitDescription({ code, signal }: { code: number | null; signal: string | null }): string {
  if (signal) return `signal: ${GO_SIGNAL_NAMES[signal] ?? signal}`;
  return `exit status ${code}`;
}

const GO_SIGNAL_NAMES: Record<string, string> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
};
