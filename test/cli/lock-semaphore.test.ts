import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually } from '../helpers/http.ts';
import { kvPairs, lockSuite, rawKvPairs } from '../helpers/lock-children.ts';
import { runCli } from './run-cli.ts';

// `tribune lock -n` as real processes against a dev agent: a semaphore of 3 among 5 contenders in Consul's
// KV layout; and Consul's usage errors, the one-shot -timeout, a lock meeting a semaphore, -child-exit-code.

const SEMAPHORE_FLAGS = '16210313421097356768';

describe('tribune lock -n, and its errors', { timeout: 60_000 }, () => {
  const suite = lockSuite();
  const rawPairs = (prefix: string) => rawKvPairs(suite.agent.httpAddr, prefix);
  const pairs = (prefix: string) => kvPairs(suite.agent.httpAddr, prefix);

  test('-n 3: exactly three of five children run at once, each freed slot taken by one more', async () => {
    const started = ['s1', 's2', 's3', 's4', 's5'].map((id) =>
      suite.children.start(id, 'jobs/pool', ['-n', '3']),
    );
    const running = await suite.children.awaitRunning(3);
    const record = await pairs('jobs/pool');
    const lock = record.find((p) => p.Key === 'jobs/pool/.lock')!;
    const holders = JSON.parse(Buffer.from(lock.Value!, 'base64').toString()) as {
      Limit: number;
      Holders: Record<string, boolean>;
    };
    assert.equal(holders.Limit, 3);
    assert.equal(Object.keys(holders.Holders).length, 3);
    assert.match(await rawPairs('jobs/pool'), new RegExp(`"Flags":${SEMAPHORE_FLAGS}`));
    // One contender key per process, each held by its own session; the two waiting are not holders.
    await eventually('five contender keys', async () =>
      (await pairs('jobs/pool')).length === 6 ? true : undefined,
    );
    const contenders = (await pairs('jobs/pool')).filter((p) => p.Key !== 'jobs/pool/.lock');
    assert.ok(contenders.every((p) => p.Key === `jobs/pool/${p.Session}`));

    suite.children.release(running[0]!);
    await eventually('a fourth child takes the freed slot', async () =>
      suite.children.record().filter((line) => line.startsWith('start')).length === 4 ? true : undefined,
    );
    assert.equal(suite.children.running().length, 3);
    for (const id of ['s1', 's2', 's3', 's4', 's5']) suite.children.release(id);
    assert.deepEqual(await Promise.all(started.map((s) => s.exited)), [0, 0, 0, 0, 0]);
    assert.equal(suite.children.maxConcurrent(), 3);
    assert.deepEqual(await pairs('jobs/pool'), [], 'the semaphore left nothing behind');
  });

  test("Consul's usage errors, one-shot -timeout, and -child-exit-code", async () => {
    const cli = (args: string[]) => runCli(['lock', ...args], { addr: suite.agent.httpAddr });
    const usage: [string[], string][] = [
      [['jobs/x'], 'Key prefix and child command must be specified'],
      [['-n', '0', 'jobs/x', 'true'], 'Lock holder limit must be positive'],
      [['-monitor-retry=-1', 'jobs/x', 'true'], "Number for 'monitor-retry' must be >= 0"],
    ];
    for (const [args, message] of usage) {
      const result = await cli(args);
      assert.equal(result.stderr, `${message}\n`);
      assert.equal(result.code, 1);
    }

    suite.children.start('held', 'jobs/once');
    await eventually('the holder running', async () =>
      suite.children.running().includes('held') ? true : undefined,
    );
    const timedOut = await cli(['-timeout=500ms', 'jobs/once', 'true']);
    assert.equal(timedOut.stderr, 'Shutdown triggered or timeout during lock acquisition\n');
    assert.equal(timedOut.code, 1);
    const semaphoreOnLock = await cli(['-n', '2', 'jobs/once', 'true']);
    assert.equal(
      semaphoreOnLock.stderr,
      'Lock acquisition failed: Existing key does not match semaphore use\n',
    );
    suite.children.release('held');

    const failing = await cli(['-child-exit-code', 'jobs/exit', 'exit 3']);
    assert.equal(failing.stderr, 'Error running handler: exit status 3\n');
    assert.equal(failing.code, 2);
    assert.equal(
      (await cli(['jobs/exit', 'exit 3'])).code,
      0,
      'without -child-exit-code the child’s failure is not the lock’s',
    );
  });
});
