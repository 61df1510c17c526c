import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { type ApiResponse, api, eventually } from '../helpers/http.ts';

// Two clients contending for one key through sessions and ?acquire, on a real dev agent: release or delete
// on invalidation according to Behavior, and lock-delay honoured afterwards.

let agent: DevAgent;
before(async () => {
  agent = await startDevAgent();
});
after(() => agent.stop());

const call = (method: string, path: string, body?: string | object) =>
  api(agent.httpAddr, method, path, body);

async function session(body: object): Promise<string> {
  const response = await call('PUT', '/v1/session/create', body);
  assert.equal(response.status, 200, response.text);
  return response.json<{ ID: string }>().ID;
}

async function acquire(key: string, id: string, value = id): Promise<boolean> {
  const response = await call('PUT', `/v1/kv/${key}?acquire=${id}`, value);
  assert.equal(response.status, 200, response.text);
  return response.json<boolean>();
}

async function entry(
  key: string,
): Promise<{ Session?: string; LockIndex: number; Value: string } | undefined> {
  const response = await call('GET', `/v1/kv/${key}`);
  return response.status === 404
    ? undefined
    : response.json<{ Session?: string; LockIndex: number; Value: string }[]>()[0];
}

/** Waits for a key to change past `index` with a blocking query (the event, not a sleep). */
async function nextChange(path: string, index: number): Promise<ApiResponse> {
  return call('GET', `${path}${path.includes('?') ? '&' : '?'}index=${index}&wait=60s`);
}

describe('session locks', () => {
  test('only one of two sessions holds the lock; the holder may re-acquire; only the holder releases', async () => {
    const a = await session({ Name: 'a', LockDelay: '0s' });
    const b = await session({ Name: 'b', LockDelay: '0s' });
    assert.equal(await acquire('locks/one', a), true);
    assert.equal(await acquire('locks/one', b), false);
    assert.equal(await acquire('locks/one', a, 'again'), true, 're-acquire by the holder');
    const held = await entry('locks/one');
    assert.equal(held?.Session, a);
    assert.equal(held?.LockIndex, 1, 're-acquiring does not bump LockIndex');
    assert.equal((await call('PUT', `/v1/kv/locks/one?release=${b}`)).json(), false);
    assert.equal((await call('PUT', `/v1/kv/locks/one?release=${a}`)).json(), true);
    assert.equal(await acquire('locks/one', b), true);
    assert.equal((await entry('locks/one'))?.LockIndex, 2);
  });

  test('destroying a release session frees the lock; lock-delay keeps others out until it passes', async () => {
    const holder = await session({ LockDelay: '1s' });
    const waiter = await session({ LockDelay: '0s' });
    assert.equal(await acquire('locks/delay', holder), true);
    const index = Number((await call('GET', '/v1/kv/locks/delay')).headers.get('x-consul-index'));
    const released = nextChange('/v1/kv/locks/delay', index);
    await call('PUT', `/v1/session/destroy/${holder}`);
    const destroyedAt = Date.now();
    const after = (await released).json<{ Session?: string; Value: string }[]>()[0]!;
    assert.equal(after.Session, undefined, 'the key is unlocked');
    assert.equal(Buffer.from(after.Value, 'base64').toString(), holder, 'release keeps the value');
    assert.equal(await acquire('locks/delay', waiter), false, 'refused during lock-delay');
    await eventually(
      'lock-delay to pass',
      async () => ((await acquire('locks/delay', waiter)) ? true : undefined),
      5000,
    );
    const waited = Date.now() - destroyedAt;
    assert.ok(waited >= 900, `acquired ${waited} ms after invalidation, before the 1 s lock-delay`);
  });

  test('destroying a delete session deletes the keys it held', async () => {
    const holder = await session({ Behavior: 'delete', LockDelay: '0s' });
    assert.equal(await acquire('locks/del', holder), true);
    await call('PUT', `/v1/session/destroy/${holder}`);
    assert.equal(await entry('locks/del'), undefined);
  });

  test('TTL expiry (at twice the TTL) invalidates the session and applies its Behavior', async () => {
    const holder = await session({ TTL: '10s', Behavior: 'delete', LockDelay: '0s' });
    const created = Date.now();
    assert.equal(await acquire('locks/ttl', holder), true);
    const index = Number((await call('GET', '/v1/kv/locks/ttl')).headers.get('x-consul-index'));
    const response = await nextChange('/v1/kv/locks/ttl', index);
    const elapsed = Date.now() - created;
    assert.equal(response.status, 404, 'the key was deleted');
    assert.ok(elapsed >= 19_000, `expired after ${elapsed} ms, before 2 × TTL`);
    assert.deepEqual((await call('GET', `/v1/session/info/${holder}`)).json(), []);
  });

  test('renewal keeps a TTL session alive', async () => {
    const id = await session({ TTL: '10s' });
    const renewed = await call('PUT', `/v1/session/renew/${id}`);
    assert.equal(renewed.status, 200);
    assert.equal(renewed.json<{ ID: string; TTL: string }[]>()[0]?.TTL, '10s');
  });

  test('a bound check turning critical invalidates the session and releases its lock', async () => {
    await call('PUT', '/v1/agent/check/register', { Name: 'guard', TTL: '60s', Status: 'passing' });
    const holder = await session({ Checks: ['serfHealth', 'guard'], LockDelay: '0s' });
    assert.equal(await acquire('locks/check', holder), true);
    await call('PUT', '/v1/agent/check/fail/guard');
    await eventually('the session to be invalidated', async () =>
      (await call('GET', `/v1/session/info/${holder}`)).json<unknown[]>().length === 0 ? true : undefined,
    );
    assert.equal((await entry('locks/check'))?.Session, undefined);
    const refused = await call('PUT', '/v1/session/create', { Checks: ['guard'] });
    assert.equal(refused.status, 500);
    assert.match(refused.text, /Check 'guard' is in critical state/);
  });

  test('deregistering a node invalidates its sessions', async () => {
    await call('PUT', '/v1/catalog/register', { Node: 'ephemeral', Address: '10.0.0.9' });
    const holder = await session({ Node: 'ephemeral', Checks: [], LockDelay: '0s' });
    assert.equal(await acquire('locks/node', holder), true);
    await call('PUT', '/v1/catalog/deregister', { Node: 'ephemeral' });
    assert.equal((await entry('locks/node'))?.Session, undefined);
    assert.deepEqual((await call('GET', `/v1/session/info/${holder}`)).json(), []);
  });
});
