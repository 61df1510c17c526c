import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';
import { LockChildren } from '../helpers/lock-children.ts';

// `tribune lock` as real processes against a dev agent, in Consul's KV layout: mutual exclusion on
// <prefix>/.lock, and the lock-delay after the holder's session is invalidated.

const LOCK_FLAGS = '3304740253564472344';

interface Pair {
  Key: string;
  Flags: number;
  Session?: string;
  Value: string | null;
}

describe('tribune lock', { timeout: 60_000 }, () => {
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

  test('two locks on one prefix: one child at a time, the lock released and cleaned up after', async () => {
    const a = children.start('a', 'jobs/backup');
    const [first] = await children.awaitRunning(1);
    const b = children.start('b', 'jobs/backup');
    const [lock] = await pairs('jobs/backup');
    assert.equal(lock!.Key, 'jobs/backup/.lock');
    assert.match(await rawPairs('jobs/backup'), new RegExp(`"Flags":${LOCK_FLAGS}`));
    const session = (await api(agent.httpAddr, 'GET', `/v1/session/info/${lock!.Session}`)).json<
      { Name: string; TTL: string }[]
    >();
    assert.equal(session[0]!.TTL, '15s');
    assert.match(session[0]!.Name, /^Consul lock for '.*' at 'jobs\/backup'$/);

    // The second waits on its blocking read: a contender key of a lock does not exist, only .lock.
    await eventually('the second contender waiting', async () => (b.output() === '' ? true : undefined));
    assert.deepEqual(children.running(), [first]);
    children.release(first!);
    const second = first === 'a' ? 'b' : 'a';
    await eventually('the other child running', async () =>
      children.running()[0] === second ? true : undefined,
    );
    children.release(second!);
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
    assert.deepEqual(children.record(), [
      `start ${first} true`,
      `stop ${first}`,
      `start ${second} true`,
      `stop ${second}`,
    ]);
    assert.deepEqual(await pairs('jobs/backup'), [], 'the last holder deleted the unused .lock');
  });

  test("the holder's session destroyed: its child is stopped, the other takes over only after the lock-delay", async () => {
    const a = children.start('c', 'jobs/sync');
    await children.awaitRunning(1);
    children.start('d', 'jobs/sync');
    const [lock] = await pairs('jobs/sync');
    const destroyedAt = Date.now();
    assert.equal((await api(agent.httpAddr, 'PUT', `/v1/session/destroy/${lock!.Session}`)).text, 'true');
    await eventually('the holder stops its child', async () =>
      children.record().includes('term c') ? true : undefined,
    );
    assert.equal(await a.exited, 0, a.output());
    await children.awaitRunning(1, 30_000);
    const waited = Date.now() - destroyedAt;
    assert.deepEqual(children.running(), ['d']);
    assert.ok(
      waited >= 15_000,
      `the other child started ${waited} ms after the destroy, within the 15 s lock-delay`,
    );
    children.release('d');
  });
});
