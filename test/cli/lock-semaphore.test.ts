import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';
import { LockChildren } from '../helpers/lock-children.ts';
import { runCli } from './run-cli.ts';

// `tribune lock -n` as real processes against a dev agent: a semaphore of 3 among 5 contenders in Consul's
// KV layout; and Consul's usage errors, the one-shot -timeout, a lock meeting a semaphore, -child-exit-code.

const SEMAPHORE_FLAGS = '16210313421097356768';

interface Pair {
  Key: string;
  Flags: number;
  Session?: string;
  Value: string | null;
}

describe('tribune lock -n, and its errors', { timeout: 60_000 }, () => {
  let agent: DevAgent;
  let children: LockChildren;
  before(async () => {
    agent = await startDevAgent();
  });
  beforeEach(() => {
    children = new LockChildren(agent.httpAddr);
  });
  afterEach(() => children.cleanup());
  after(async () => {
    await agent?.stop();
  });

  /** The raw text of the pairs under `prefix`, so 64-bit flags are compared exactly. */
  const rawPairs = async (prefix: string) =>
    (await api(agent.httpAddr, 'GET', `/v1/kv/${prefix}?recurse`)).text;
  const pairs = async (prefix: string) => {
    const res = await api(agent.httpAddr, 'GET', `/v1/kv/${prefix}?recurse`);
    return res.status === 404 ? [] : res.json<Pair[]>();
  };

  test('-n 3: exactly three of five children run at once, each freed slot taken by one more', async () => {
    const started = ['s1', 's2', 's3', 's4', 's5'].map((id) => children.start(id, 'jobs/pool', ['-n', '3']));
    const running = await children.awaitRunning(3);
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

    children.release(running[0]!);
    await eventually('a fourth child takes the freed slot', async () =>
      children.record().filter((line) => line.startsWith('start')).length === 4 ? true : undefined,
    );
    assert.equal(children.running().length, 3);
    for (const id of ['s1', 's2', 's3', 's4', 's5']) children.release(id);
    assert.deepEqual(await Promise.all(started.map((s) => s.exited)), [0, 0, 0, 0, 0]);
    assert.equal(children.maxConcurrent(), 3);
    assert.deepEqual(await pairs('jobs/pool'), [], 'the semaphore left nothing behind');
  });

  test("Consul's usage errors, one-shot -timeout, and -child-exit-code", async () => {
    const cli = (args: string[]) => runCli(['lock', ...args], { addr: agent.httpAddr });
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

    children.start('held', 'jobs/once');
    await eventually('the holder running', async () =>
      children.running().includes('held') ? true : undefined,
    );
    const timedOut = await cli(['-timeout=500ms', 'jobs/once', 'true']);
    assert.equal(timedOut.stderr, 'Shutdown triggered or timeout during lock acquisition\n');
    assert.equal(timedOut.code, 1);
    const semaphoreOnLock = await cli(['-n', '2', 'jobs/once', 'true']);
    assert.equal(
      semaphoreOnLock.stderr,
      'Lock acquisition failed: Existing key does not match semaphore use\n',
    );
    children.release('held');

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
