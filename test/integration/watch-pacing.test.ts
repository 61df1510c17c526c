import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiClient } from '../../src/api/client.ts';
import { parseWatch } from '../../src/watch/parse.ts';
import { runWatch } from '../../src/watch/plan.ts';

// The watch loop against a server that misbehaves as some do: it ignores ?index and answers at once, always
// with the same index, then with a lower one. The loop must neither spin nor call its handler for nothing,
// and must start over from index 0 once the index went backwards.

test('a server that answers at once with the same index: no busy loop, no handler call; a lower index resets', async () => {
  let answer = { index: '7', value: 'djE=' };
  const queries: string[] = [];
  const server = createServer((req, res) => {
    queries.push(new URL(req.url ?? '', 'http://x').searchParams.get('index') ?? '');
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Consul-Index': answer.index });
    res.end(
      `[{"Key":"k","CreateIndex":1,"ModifyIndex":${answer.index},"LockIndex":0,"Flags":0,"Value":"${answer.value}"}]`,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = new ApiClient({
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: '',
    datacenter: '',
    stale: false,
  });
  const handled: string[] = [];
  const errors: string[] = [];
  const stop = new AbortController();
  const spec = parseWatch({ type: 'key', key: 'k' });
  const running = runWatch({
    type: spec.type,
    query: spec.query,
    client,
    handler: async (index) => {
      handled.push(String(index));
    },
    log: { error: (_f, message) => errors.push(message), warn: () => {}, debug: () => {} },
    signal: stop.signal,
  });

  await delay(2_500);
  assert.deepEqual(handled, ['7'], 'the handler ran once, for the first answer');
  assert.ok(queries.length <= 4, `${queries.length} queries in 2.5 s: at most one a second after the first`);
  assert.deepEqual(queries.slice(0, 2), ['', '7'], 'the first query has no index, the next blocks on it');

  answer = { index: '3', value: 'djI=' };
  const seen = queries.length;
  await delay(2_500);
  assert.deepEqual(handled, ['7', '3'], 'the new value was handed over once');
  assert.equal(queries[seen + 1], '', 'after the index went backwards the watch started over from 0');
  assert.equal(queries[seen + 2], '3');
  assert.deepEqual(errors, []);

  stop.abort();
  await running;
  server.close();
});
