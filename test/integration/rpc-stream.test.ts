import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { RpcClient } from '../../src/rpc/client.ts';
import { RpcRemoteError, RpcTimeoutError } from '../../src/rpc/errors.ts';
import { sleep, startServer, type TestServer, within } from './rpc-harness.ts';

// Streaming large payloads (InstallSnapshot's shape) over real sockets on 127.0.83.2: credit-based flow
// control keeps memory bounded, and early answers, sender failures and timeouts end both sides cleanly.

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;
/** A second full collection first finishes freeing the buffers the first one found dead. */
function gc() {
  collect();
  collect();
}

const HOST = '127.0.83.2';
const MiB = 1024 * 1024;

let t: TestServer;
let client: RpcClient;
before(async () => {
  t = await startServer(HOST);
  client = t.client();
});
after(async () => {
  client.close();
  await t.server.close();
});

/** `total` bytes of a repeatable pattern in 1 MiB pieces, made only as they are asked for. */
async function* payload(total: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += MiB) {
    const piece = Buffer.alloc(Math.min(MiB, total - sent), sent / MiB);
    hash.update(piece);
    yield piece;
  }
}

test('a 50 MB payload streams intact to a slow handler with bounded memory', async (ctx) => {
  const total = 50 * MiB;
  gc();
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = 0;
  t.server.handleStream('Snapshot.Install', async (body, chunks) => {
    const hash = createHash('sha256');
    let received = 0;
    let nextSample = 0;
    for await (const chunk of chunks) {
      hash.update(chunk);
      received += chunk.length;
      await sleep(1); // a slow disk: without flow control most of the payload would pile up here
      if (received >= nextSample) {
        nextSample += 4 * MiB;
        gc();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
      }
    }
    return { index: (body as { index: number }).index, received, sha256: hash.digest('hex') };
  });
  const sent = createHash('sha256');
  const started = performance.now();
  const result = await client.callStream('Snapshot.Install', { index: 42 }, payload(total, sent), {
    timeoutMs: 60_000,
  });
  const seconds = (performance.now() - started) / 1000;
  assert.deepEqual(result, { index: 42, received: total, sha256: sent.digest('hex') });
  ctx.diagnostic(`50 MB in ${seconds.toFixed(2)} s; peak extra buffer memory ${(peak / MiB).toFixed(1)} MiB`);
  assert.ok(peak < 12 * MiB, `peak buffer memory ${(peak / MiB).toFixed(1)} MiB`);
});

test('other calls on the connection go on while a stream waits for credit', async () => {
  let resume: () => void = () => {};
  const stalled = new Promise<void>((resolve) => {
    resume = resolve;
  });
  t.server.handleStream('Test.Stall', async (_body, chunks) => {
    await stalled;
    let bytes = 0;
    for await (const chunk of chunks) bytes += chunk.length;
    return bytes;
  });
  const hash = createHash('sha256');
  const streaming = client.callStream('Test.Stall', null, payload(20 * MiB, hash));
  await sleep(100);
  assert.equal(
    await within(1000, client.call('Test.Echo', 'not blocked'), 'a call beside a stalled stream'),
    'not blocked',
  );
  resume();
  assert.equal(await streaming, 20 * MiB);
});

test('a handler that answers before the payload ends stops the sender', async () => {
  t.server.handleStream('Test.First', async (_body, chunks) => {
    for await (const chunk of chunks) return chunk.length;
    return 0;
  });
  let finished = false;
  async function* endless() {
    try {
      for (;;) yield new Uint8Array(64 * 1024);
    } finally {
      finished = true;
    }
  }
  assert.equal(await client.callStream('Test.First', null, endless(), { timeoutMs: 5000 }), 64 * 1024);
  assert.equal(finished, true);
});

test('a failing source fails the call and the handler sees the stream abandoned', async () => {
  let seen: unknown;
  t.server.handleStream('Test.Abandoned', async (_body, chunks) => {
    try {
      for await (const _ of chunks);
    } catch (error) {
      seen = error;
    }
  });
  async function* failing() {
    yield new Uint8Array(10);
    throw new Error('disk read failed');
  }
  await assert.rejects(client.callStream('Test.Abandoned', null, failing()), /disk read failed/);
  await sleep(50);
  assert.match(String(seen), /stream abandoned by sender: disk read failed/);
});

test('a stream that outlasts its timeout fails with RpcTimeoutError and the handler is told', async () => {
  let seen: unknown;
  t.server.handleStream('Test.Slow', async (_body, chunks) => {
    try {
      for await (const _ of chunks) await sleep(50);
    } catch (error) {
      seen = error;
    }
  });
  const hash = createHash('sha256');
  await assert.rejects(
    client.callStream('Test.Slow', null, payload(20 * MiB, hash), { timeoutMs: 150 }),
    RpcTimeoutError,
  );
  await sleep(200);
  assert.match(String(seen), /abandoned by sender: rpc Test.Slow timed out/);
});

test('a stream handler error and an unknown stream method come back as RpcRemoteError', async () => {
  t.server.handleStream('Test.Refuse', () => {
    throw new Error('snapshot index is stale');
  });
  const hash = createHash('sha256');
  await assert.rejects(client.callStream('Test.Refuse', null, payload(8 * MiB, hash)), (error) => {
    return error instanceof RpcRemoteError && error.message === 'snapshot index is stale';
  });
  await assert.rejects(
    client.callStream('Nope.Stream', null, payload(MiB, hash)),
    /can't find method Nope.Stream/,
  );
  assert.equal(await client.call('Test.Echo', 'ok'), 'ok');
});
