import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { joinKey } from '../../api/kv.ts';
import { LOCK_IN_USE, Lock } from '../../coordination/lock.ts';
import { SEMAPHORE_IN_USE, SEMAPHORE_KEY, Semaphore } from '../../coordination/semaphore.ts';
import { exitDescription, exited, spawnCommand, terminate } from '../../util/child-process.ts';
import { defineCommand, fail, orFail } from '../command.ts';
import { boolFlag, durationFlag, intFlag, stringFlag } from '../flags.ts';
import { shutdownSignal } from '../shutdown.ts';
import * as ui from '../ui.ts';

/**
 * How long a child gets between SIGTERM and SIGKILL: time to clean up, balanced against the risk of two
 * children acting as holders (Consul's value, under the default 15 s lock-delay).
 */
const KILL_GRACE_MS = 5_000;
/** The pause between the monitor's retries after a 500. */
const MONITOR_RETRY_MS = 1_000;

export const lock = defineCommand({
  usage: `
Usage: tribune lock [options] prefix child...

  Acquires a lock or semaphore at a given path, and invokes a child process
  when successful. The child process can assume the lock is held while it
  executes. If the lock is lost or communication is disrupted the child
  process will be sent a SIGTERM signal and given time to gracefully exit.
  After the grace period expires the process will be hard terminated.

  When -n=1, only a single lock holder or leader exists providing mutual
  exclusion. Setting a higher value switches to a semaphore allowing multiple
  holders to coordinate.

  The prefix provided must have write privileges.
`,
  http: 'client+server',
  flags: {
    childExitCode: boolFlag(
      'child-exit-code',
      'Exit 2 if the child process exited with an error if this is true, otherwise this does not ' +
        'propagate an error from the child. The default value is false.',
    ),
    limit: intFlag(
      'n',
      'Optional limit on the number of concurrent lock holders. The underlying implementation switches ' +
        'from a lock to a semaphore when the value is greater than 1. The default value is 1.',
      1,
    ),
    monitorRetry: intFlag(
      'monitor-retry',
      'Number of times to retry if Consul returns a 500 error while monitoring the lock. This allows ' +
        'riding out brief periods of unavailability without causing leader elections, but increases the ' +
        'amount of time required to detect a lost lock in some cases. The default value is 3, with a 1s ' +
        'wait between retries. Set this value to 0 to disable retires.',
      3,
    ),
    name: stringFlag(
      'name',
      'Optional name to associate with the lock session. It not provided, one is generated based on the ' +
        'provided child command.',
    ),
    passStdin: boolFlag('pass-stdin', 'Pass stdin to the child process.'),
    shell: boolFlag(
      'shell',
      'Use a shell to run the command (can set a custom shell via the SHELL environment variable).',
      true,
    ),
    timeout: durationFlag(
      'timeout',
      'Maximum amount of time to wait to acquire the lock, specified as a duration like "1s" or "3h". ' +
        'The default value is 0.',
    ),
    verbose: boolFlag('verbose', 'Enable verbose (debugging) output.'),
  },
  async run({ flags, args, api }) {
    // Consul's checks, in its order and words.
    if (flags.limit <= 0) fail('Lock holder limit must be positive');
    if (args.length < 2) fail('Key prefix and child command must be specified');
    const prefix = args[0]!.replace(/^\//, '');
    const child = args.slice(1);
    if (flags.timeout < 0) fail('Timeout must be positive');
    const name = flags.name || `Consul lock for '${child.join(' ')}' at '${prefix}'`;
    if (flags.monitorRetry < 0) fail("Number for 'monitor-retry' must be >= 0");
    const verbose = (text: string) => flags.verbose && ui.info(text);

    const client = api();
    await orFail('Error querying Consul agent', client.get('/v1/agent/self', z.object({})));

    // A lock uses the semaphore's key, so a lock and a semaphore on one prefix conflict and say so.
    const common = {
      sessionName: name,
      monitorRetries: flags.monitorRetry,
      monitorRetryTimeMs: MONITOR_RETRY_MS,
      tryOnce: flags.timeout > 0,
    };
    const waitMs = flags.timeout > 0 ? flags.timeout / 1e6 : undefined;
    let holder: Lock | Semaphore;
    try {
      if (flags.limit === 1) {
        const key = joinKey(prefix, SEMAPHORE_KEY);
        verbose(`Setting up lock at path: ${key}`);
        holder = new Lock(client, { key, ...common, ...(waitMs ? { lockWaitTimeMs: waitMs } : {}) });
      } else {
        verbose(`Setting up semaphore (limit ${flags.limit}) at prefix: ${prefix}`);
        const wait = waitMs ? { semaphoreWaitTimeMs: waitMs } : {};
        holder = new Semaphore(client, { prefix, limit: flags.limit, ...common, ...wait });
      }
    } catch (err) {
      fail(`Lock setup failed: ${(err as Error).message}`);
    }

    const shutdown = shutdownSignal();
    verbose('Attempting lock acquisition');
    const lost = await orFail('Lock acquisition failed', holder.acquire(shutdown));
    if (lost === undefined) fail('Shutdown triggered or timeout during lock acquisition');

    let childCode = 0;
    if (shutdown.aborted) {
      ui.error('Shutdown triggered during lock acquisition');
    } else {
      verbose('Starting handler');
      if (flags.passStdin) verbose('Stdin passed to handler process');
      const running = spawnCommand(child, flags.shell, {
        env: { ...process.env, CONSUL_LOCK_HELD: 'true' },
        stdio: [flags.passStdin ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      });
      const finished = childFinished(running);
      const outcome = await Promise.race([
        finished.then((failed) => ({ why: 'exit' as const, failed })),
        aborted(shutdown).then(() => ({ why: 'shutdown' as const, failed: false })),
        aborted(lost).then(() => ({ why: 'lost' as const, failed: false })),
      ]);
      if (outcome.why === 'exit') {
        if (outcome.failed) childCode = 2;
        verbose('Child terminated, releasing lock');
      } else {
        verbose(
          outcome.why === 'shutdown' ? 'Shutdown triggered, killing child' : 'Lock lost, killing child',
        );
        await killChild(running, verbose);
      }
    }

    try {
      await holder.release();
    } catch (err) {
      fail(`Lock release failed: ${(err as Error).message}`);
    }
    try {
      await holder.destroy();
      verbose('Cleanup succeeded');
    } catch (err) {
      const message = (err as Error).message;
      if (message !== LOCK_IN_USE && message !== SEMAPHORE_IN_USE) fail(`Lock cleanup failed: ${message}`);
      verbose('Cleanup aborted, lock in use');
    }
    return flags.childExitCode ? childCode : 0;
  },
});

/** Resolves true when the child failed to start or exited unsuccessfully, reporting why as Consul does. */
async function childFinished(child: ChildProcess): Promise<boolean> {
  try {
    const status = await exited(child);
    if (status.code === 0) return false;
    ui.error(`Error running handler: ${exitDescription(status)}`);
  } catch (err) {
    ui.error(`Error starting handler: ${(err as Error).message}`);
  }
  return true;
}

/** SIGTERM, then SIGKILL after the grace period, narrated with -verbose as Consul narrates it. */
async function killChild(child: ChildProcess, verbose: (text: string) => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    verbose('No child process to kill');
    return;
  }
  verbose(`Terminating child pid ${child.pid}`);
  let escalated = false;
  await terminate(child, KILL_GRACE_MS, () => {
    escalated = true;
    verbose(`Child did not exit after grace period of ${KILL_GRACE_MS / 1000}s`);
    verbose(`Killing child pid ${child.pid}`);
  });
  if (!escalated) verbose('Child terminated');
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
