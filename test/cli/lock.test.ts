import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, eventually } from '../helpers/http.ts';
import { kvPairs, lockSuite, rawKvPairs } from '../helpers/lock-children.ts';

// `tribune lock` as real processes against a dev agent, in Consul's KV layout: mutual exclusion on
// <prefix>/.lock, and the lock-delay after the holder's session is invalidated.

const LOCK_FLAGS = '3304740253564472344';

describe('tribune lock', { timeout: 60_000 }, () => {
  const suite = lockSuite();
  const rawPairs = (prefix: string) => rawKvPairs(suite.agent.httpAddr, prefix);
  const pairs = (prefix: string) => kvPairs(suite.agent.httpAddr, prefix);

  test('two locks on one prefix: one child at a time, the lock released and cleaned up after', async () => {
    const a = suite.children.start('a', 'jobs/backup');
    const [first] = await suite.children.awaitRunning(1);
    const b = suite.children.start('b', 'jobs/backup');
    const [lock] = await pairs('jobs/backup');
    assert.equal(lock!.Key, 'jobs/backup/.lock');
    assert.match(await rawPairs('jobs/backup'), new RegExp(`"Flags":${LOCK_FLAGS}`));
    const session = (await api(suite.agent.httpAddr, 'GET', `/v1/session/info/${lock!.Session}`)).json<
      { Name: string; TTL: string }[]
    >();
    assert.equal(session[0]!.TTL, '15s');
    assert.match(session[0]!.Name, /^Consul lock for '.*' at 'jobs\/backup'$/);

    // The second waits on its blocking read: a contender key of a lock does not exist, only .lock.
    await eventually('the second contender waiting', async () => (b.output() === '' ? true : undefined));
    assert.deepEqual(suite.children.running(), [first]);
    suite.children.release(first!);
    const second = first === 'a' ? 'b' : 'a';
    await eventually('the other child running', async () =>
      suite.children.running()[0] === second ? true : undefined,
    );
    suite.children.release(second!);
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
    assert.deepEqual(suite.children.record(), [
      `start ${first} true`,
      `stop ${first}`,
      `start ${second} true`,
      `stop ${second}`,
    ]);
    assert.deepEqual(await pairs('jobs/backup'), [], 'the last holder deleted the unused .lock');
  });

  test("the holder's session destroyed: its child is stopped, the other takes over only after the lock-delay", async () => {
    const a = suite.children.start('c', 'jobs/sync');
    await suite.children.awaitRunning(1);
    suite.children.start('d', 'jobs/sync');
    const [lock] = await pairs('jobs/sync');
    const destroyedAt = Date.now();
    assert.equal(
      (await api(suite.agent.httpAddr, 'PUT', `/v1/session/destroy/${lock!.Session}`)).text,
      'true',
    );
    await eventually('the holder stops its child', async () =>
      suite.children.record().includes('term c') ? true : undefined,
    );
    assert.equal(await a.exited, 0, a.output());
    await suite.children.awaitRunning(1, 30_000);
    const waited = Date.now() - destroyedAt;
    assert.deepEqual(suite.children.running(), ['d']);
    assert.ok(
      waited >= 15_000,
      `the other child started ${waited} ms after the destroy, within the 15 s lock-delay`,
    );
    suite.children.release('d');
  });
});
