import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type ClientResponse, type Harness, openHarness, prometheusValue } from './helpers.ts';

// node-consul's watch helper on a KV key, against a real dev agent. The watch re-polls as soon as each
// answer arrives, so it only stays quiet if the agent really blocks on `?index=`; this file has its own
// agent so the request counts below are the watch's alone.

interface Change {
  data: { Key: string; Value: string | null; ModifyIndex: number } | undefined;
  res: ClientResponse;
}

const KEY = 'watched/key';
/** How long the idle watch is observed; a watch that spins makes hundreds of requests in this time. */
const QUIET_WINDOW_MS = 1500;
/** How long a change may take to reach the watch (it must not wait for the 30 s `wait` to run out). */
const CHANGE_DEADLINE_MS = 5000;

let h: Harness;
let watch: EventEmitter & { end(): void };
const changes: Change[] = [];
const waiters: (() => void)[] = [];
const errors: unknown[] = [];
let clientRequests = 0;
/** X-Consul-Index of the last change the watch reported. */
let lastIndex = 0n;

/** The next change event, failing after CHANGE_DEADLINE_MS. */
async function nextChange(): Promise<Change> {
  const deadline = Date.now() + CHANGE_DEADLINE_MS;
  while (changes.length === 0) {
    const remaining = deadline - Date.now();
    assert.ok(remaining > 0, `no change event within ${CHANGE_DEADLINE_MS} ms`);
    const timer = new AbortController();
    const arrived = new Promise<void>((resolve) => waiters.push(resolve));
    const timedOut = delay(remaining, undefined, { signal: timer.signal }).catch(() => undefined);
    await Promise.race([arrived, timedOut]);
    timer.abort();
  }
  return changes.shift()!;
}

/** GETs on /v1/kv/* the agent has answered, from its own Prometheus metrics. */
async function kvReadsServed(): Promise<number> {
  const text = await (await h.fetch('/agent/metrics?format=prometheus')).text();
  return prometheusValue(text, 'consul_api_http_count', { method: 'GET', path: 'v1_kv_' });
}

before(async () => {
  h = await openHarness();
  await h.consul.kv.set(KEY, 'v1');
  // papi (under node-consul) logs each request it sends with its tags.
  (h.consul as unknown as EventEmitter).on('log', (tags: string[]) => {
    if (tags[1] === 'request' && tags.length > 2 && tags.includes('kv.get') && !tags.includes('error')) {
      clientRequests++;
    }
  });
  watch = h.consul.watch({ method: h.consul.kv.get, options: { key: KEY } }) as unknown as typeof watch;
  watch.on('change', (data: Change['data'], res: ClientResponse) => {
    changes.push({ data, res });
    for (const wake of waiters.splice(0)) wake();
  });
  watch.on('error', (err: unknown) => errors.push(err));
});
after(async () => {
  watch?.end();
  await h?.close();
});

describe('kv watch via node-consul', () => {
  test('the first answer fires change with the current value', async () => {
    const { data, res } = await nextChange();
    assert.equal(data?.Key, KEY);
    assert.equal(data?.Value, 'v1');
    assert.equal(res.headers['x-consul-index'], String(data?.ModifyIndex));
    lastIndex = BigInt(String(res.headers['x-consul-index']));
    assert.ok(clientRequests >= 1, 'the request log sees the watch');
  });

  test('an idle watch blocks instead of polling, even while other keys change', async () => {
    const requestsBefore = clientRequests;
    const servedBefore = await kvReadsServed();
    assert.ok(servedBefore >= 1, 'the agent counted the first answer');
    for (let i = 0; i < 5; i++) await h.consul.kv.set(`watched/other-${i}`, String(i));
    await delay(QUIET_WINDOW_MS);
    const requests = clientRequests - requestsBefore;
    const served = (await kvReadsServed()) - servedBefore;
    // The only kv reads in the window are the watch's single outstanding blocking query (it may have been
    // sent just before the window and may not be answered yet) and none of our own.
    assert.ok(requests <= 1, `the watch sent ${requests} requests in ${QUIET_WINDOW_MS} ms`);
    assert.ok(served <= 1, `the agent answered ${served} kv reads in ${QUIET_WINDOW_MS} ms`);
    assert.deepEqual(changes, [], 'writes to other keys do not fire the watch');
  });

  test('a write to the key wakes the blocked query and fires change with the new value', async () => {
    const before = clientRequests;
    const started = Date.now();
    await h.consul.kv.set(KEY, 'v2');
    const { data, res } = await nextChange();
    assert.equal(data?.Value, 'v2');
    assert.equal(res.headers['x-consul-index'], String(data?.ModifyIndex));
    assert.ok(BigInt(String(res.headers['x-consul-index'])) > lastIndex);
    lastIndex = BigInt(String(res.headers['x-consul-index']));
    assert.ok(Date.now() - started < CHANGE_DEADLINE_MS);
    assert.ok(clientRequests - before <= 2, `${clientRequests - before} requests for one change`);
  });

  test('deleting the key fires change with no value (a 404 with a higher index)', async () => {
    await h.consul.kv.del(KEY);
    const { data, res } = await nextChange();
    assert.equal(data, undefined);
    assert.equal(res.statusCode, 404);
    assert.ok(BigInt(String(res.headers['x-consul-index'])) > lastIndex);
  });

  test('the watch ran without errors', () => {
    assert.deepEqual(errors, []);
  });
});
