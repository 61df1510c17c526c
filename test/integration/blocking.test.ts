import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually, metric } from '../helpers/http.ts';

// Blocking queries against a real dev agent: a GET with ?index returns promptly after a write to its key,
// is not woken by writes elsewhere, and ten thousand of them can wait at once at little memory cost.

let agent: DevAgent;
before(async () => {
  agent = await startDevAgent();
});
after(() => agent.stop());

const indexOf = async (path: string) =>
  Number((await api(agent.httpAddr, 'GET', path)).headers.get('x-consul-index'));

describe('blocking queries', () => {
  test('a blocked GET returns after a write to its key, with the new value and a higher index', async () => {
    await api(agent.httpAddr, 'PUT', '/v1/kv/block/one', 'v1');
    const index = await indexOf('/v1/kv/block/one');
    const blocked = api(agent.httpAddr, 'GET', `/v1/kv/block/one?index=${index}&wait=30s`);
    await eventually('the query to block', async () =>
      (await metric(agent.httpAddr, 'consul_rpc_queries_blocking')) === 1 ? true : undefined,
    );
    const started = performance.now();
    await api(agent.httpAddr, 'PUT', '/v1/kv/block/one', 'v2');
    const response = await blocked;
    const latency = performance.now() - started;
    assert.equal(response.status, 200);
    const [entry] = response.json<{ Value: string }[]>();
    assert.equal(Buffer.from(entry!.Value, 'base64').toString(), 'v2');
    assert.ok(Number(response.headers.get('x-consul-index')) > index);
    assert.ok(latency < 1000, `woke after ${latency.toFixed(1)} ms`);
  });

  test('a key that exists answers with its own ModifyIndex, a missing one with the table index', async () => {
    await api(agent.httpAddr, 'PUT', '/v1/kv/index/own', 'o');
    await api(agent.httpAddr, 'PUT', '/v1/kv/index/later', 'l');
    const own = await api(agent.httpAddr, 'GET', '/v1/kv/index/own');
    const [entry] = own.json<{ ModifyIndex: number }[]>();
    assert.equal(Number(own.headers.get('x-consul-index')), entry!.ModifyIndex);
    const tableIndex = await indexOf('/v1/kv/index/missing');
    assert.ok(tableIndex > entry!.ModifyIndex, `${tableIndex} is the index of the later write`);
  });

  test('writes to other keys do not wake the query; its wait elapses with the same data', async () => {
    await api(agent.httpAddr, 'PUT', '/v1/kv/block/quiet', 'q');
    const index = await indexOf('/v1/kv/block/quiet');
    const started = Date.now();
    const blocked = api(agent.httpAddr, 'GET', `/v1/kv/block/quiet?index=${index}&wait=1s`);
    await eventually('the query to block', async () =>
      (await metric(agent.httpAddr, 'consul_rpc_queries_blocking')) === 1 ? true : undefined,
    );
    for (let i = 0; i < 20; i++) await api(agent.httpAddr, 'PUT', `/v1/kv/block/noise-${i}`, 'n');
    const response = await blocked;
    assert.ok(Date.now() - started >= 1000, 'returned before its wait elapsed');
    const [entry] = response.json<{ Value: string; ModifyIndex: number }[]>();
    assert.equal(Buffer.from(entry!.Value, 'base64').toString(), 'q');
  });

  test('a prefix query wakes for a key under its prefix, including a delete', async () => {
    await api(agent.httpAddr, 'PUT', '/v1/kv/tree/a', 'a');
    const index = await indexOf('/v1/kv/tree/?recurse');
    const blocked = api(agent.httpAddr, 'GET', `/v1/kv/tree/?recurse&index=${index}&wait=30s`);
    await eventually('the query to block', async () =>
      (await metric(agent.httpAddr, 'consul_rpc_queries_blocking')) === 1 ? true : undefined,
    );
    await api(agent.httpAddr, 'DELETE', '/v1/kv/tree/a');
    const response = await blocked;
    assert.equal(response.status, 404);
    assert.ok(Number(response.headers.get('x-consul-index')) > index, 'the tombstone moves the prefix index');
  });

  test('an index from the future answers at once so the client can reset', async () => {
    const response = await api(agent.httpAddr, 'GET', '/v1/catalog/nodes?index=999999999&wait=30s');
    assert.equal(response.status, 200);
    assert.ok(Number(response.headers.get('x-consul-index')) < 999999999);
  });

  test('10,000 concurrent blocking queries on distinct keys plus 100 on one key', async () => {
    const distinct = 10_000;
    const shared = 100;
    const index = await indexOf('/v1/kv/load/absent');
    const heapBefore = await metric(agent.httpAddr, 'consul_runtime_alloc_bytes');
    const rssBefore = await metric(agent.httpAddr, 'consul_runtime_sys_bytes');
    const pool = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const [host, port] = [agent.host, agent.port];
    const requests: http.ClientRequest[] = [];
    const get = (key: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(
          { host, port, agent: pool, path: `/v1/kv/${key}?index=${index}&wait=120s` },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        requests.push(req);
      });
    const sharedAnswers = Array.from({ length: shared }, () => get('load/shared'));
    const distinctAnswers = Array.from({ length: distinct }, (_, i) => get(`load/key-${i}`));
    for (const answer of distinctAnswers) answer.catch(() => undefined);

    await eventually(
      'every query to block',
      async () =>
        (await metric(agent.httpAddr, 'consul_rpc_queries_blocking')) === distinct + shared
          ? true
          : undefined,
      60_000,
    );
    const heapHeld = await metric(agent.httpAddr, 'consul_runtime_alloc_bytes');
    const rssHeld = await metric(agent.httpAddr, 'consul_runtime_sys_bytes');

    await api(agent.httpAddr, 'PUT', '/v1/kv/load/unrelated', 'x');
    const written = performance.now();
    await api(agent.httpAddr, 'PUT', '/v1/kv/load/shared', 'go');
    const statuses = await Promise.all(sharedAnswers);
    const fanout = performance.now() - written;
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(
      await metric(agent.httpAddr, 'consul_rpc_queries_blocking'),
      distinct,
      'only the waiters on the written key returned',
    );

    const perWaiterHeap = (heapHeld - heapBefore) / (distinct + shared);
    const perWaiterRss = (rssHeld - rssBefore) / (distinct + shared);
    console.log(
      `# ${distinct + shared} blocked queries: heap +${((heapHeld - heapBefore) / 2 ** 20).toFixed(1)} MiB ` +
        `(${(perWaiterHeap / 1024).toFixed(2)} KiB each), RSS +${((rssHeld - rssBefore) / 2 ** 20).toFixed(1)} MiB ` +
        `(${(perWaiterRss / 1024).toFixed(2)} KiB each); write → last of ${shared} answers ${fanout.toFixed(1)} ms`,
    );
    assert.ok(perWaiterHeap < 64 * 1024, `each waiter holds ${perWaiterHeap} bytes of heap`);

    for (const req of requests) req.destroy();
    await eventually(
      'aborted queries to be released',
      async () => ((await metric(agent.httpAddr, 'consul_rpc_queries_blocking')) === 0 ? true : undefined),
      30_000,
    );
    pool.destroy();
  });
});
