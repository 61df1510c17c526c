import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { RpcClient } from '../../src/rpc/client.ts';
import { RpcConnectionError, RpcEncodeError, RpcRemoteError, RpcTimeoutError } from '../../src/rpc/errors.ts';
import { RpcPool } from '../../src/rpc/pool.ts';
import { RATE_LIMIT_ERROR, type RequestContext } from '../../src/rpc/session.ts';
import { blackHole, counter, silent, sleep, startServer, type TestServer, within } from './rpc-harness.ts';

// Calls over real sockets on 127.0.83.1: multiplexing, ordering, timeouts, errors, one-way messages,
// reconnection and the per-connection in-flight limit.

const HOST = '127.0.83.1';

describe('rpc calls', () => {
  let t: TestServer;
  let client: RpcClient;
  const notes: unknown[] = [];

  before(async () => {
    t = await startServer(HOST);
    t.server
      .handle('Test.Delay', async (body) => {
        const { ms, n } = body as { ms: number; n: number };
        await sleep(ms);
        return n;
      })
      .handle('Test.Fail', () => {
        throw new Error('No cluster leader');
      })
      .handle('Test.Peer', (_body, ctx: RequestContext) => ctx.peer)
      .handle('Test.Note', (body) => {
        notes.push(body);
      });
    client = t.client();
  });
  after(async () => {
    client.close();
    await t.server.close();
  });

  test('1,000 calls in flight at once each resolve to their own caller', async () => {
    const held: { n: number; resolve: (n: number) => void }[] = [];
    let allHeld: () => void = () => {};
    const full = new Promise<void>((resolve) => {
      allHeld = resolve;
    });
    t.server.handle('Test.Hold', (body) => {
      return new Promise((resolve) => {
        held.push({ n: body as number, resolve });
        if (held.length === 1000) allHeld();
      });
    });
    const calls = Array.from({ length: 1000 }, (_, n) => client.call('Test.Hold', n));
    await within(5000, full, 'all 1,000 calls reaching the handler');
    // Answer in a scrambled order: responses leave the server out of order.
    for (let i = held.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [held[i], held[j]] = [held[j]!, held[i]!];
    }
    for (const { n, resolve } of held) resolve(n * 2);
    assert.deepEqual(
      await Promise.all(calls),
      Array.from({ length: 1000 }, (_, n) => n * 2),
    );
  });

  test('responses come back in the order handlers finish, not the order of calls', async () => {
    const order: number[] = [];
    await Promise.all(
      [80, 50, 20, 0].map((ms) =>
        client.call('Test.Delay', { ms, n: ms }).then((n) => order.push(n as number)),
      ),
    );
    assert.deepEqual(order, [0, 20, 50, 80]);
  });

  test('a call times out with RpcTimeoutError; the late response is dropped and the connection stays usable', async () => {
    await assert.rejects(
      client.call('Test.Delay', { ms: 300, n: 1 }, { timeoutMs: 50 }),
      (error) => error instanceof RpcTimeoutError && error.method === 'Test.Delay' && error.timeoutMs === 50,
    );
    await sleep(300);
    assert.equal(await client.call('Test.Echo', 'still here'), 'still here');
  });

  test('a handler error reaches the caller as RpcRemoteError with the server text unchanged', async () => {
    const before = await counter(t.registry, 'consul_rpc_request_error', { reason: 'handler' });
    await assert.rejects(
      client.call('Test.Fail', null),
      (error) => error instanceof RpcRemoteError && error.message === 'No cluster leader',
    );
    assert.equal(await counter(t.registry, 'consul_rpc_request_error', { reason: 'handler' }), before + 1);
  });

  test('an unknown method is answered with an error, not a dropped connection', async () => {
    await assert.rejects(
      client.call('Nope.Nope', null),
      (error) => error instanceof RpcRemoteError && error.message === "rpc: can't find method Nope.Nope",
    );
    assert.equal(await counter(t.registry, 'consul_rpc_request_error', { reason: 'unknown_method' }), 1);
    assert.equal(await client.call('Test.Echo', 1), 1);
  });

  test('a request too large for a frame fails locally with RpcEncodeError', async () => {
    await assert.rejects(client.call('Test.Echo', new Uint8Array(5 * 1024 * 1024)), RpcEncodeError);
    assert.equal(await client.call('Test.Echo', 2), 2);
  });

  test('the handler sees the caller address', async () => {
    assert.match((await client.call('Test.Peer', null)) as string, /^127\.\d+\.\d+\.\d+:\d+$/);
  });

  test('one-way messages arrive in order; one to an unknown method is dropped and counted', async () => {
    for (let i = 0; i < 100; i++) client.send('Test.Note', i);
    client.send('Nope.Note', 'lost');
    // A call after the messages on the same connection is answered after they were delivered.
    await client.call('Test.Echo', null);
    assert.deepEqual(
      notes,
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(await counter(t.registry, 'consul_rpc_request_error', { reason: 'unknown_method' }), 2);
  });

  test('close() fails pending calls at once and aborts the server-side work', async () => {
    const other = t.client();
    await other.call('Test.Echo', null);
    let aborted = false;
    t.server.handle('Test.Watch', (_body, ctx) => {
      return new Promise((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          resolve(null);
        }),
      );
    });
    const pending = other.call('Test.Watch', null);
    await sleep(20);
    other.close();
    await within(50, assert.rejects(pending, RpcConnectionError), 'pending call failing');
    await assert.rejects(other.call('Test.Echo', null), /client closed/);
    await sleep(50);
    assert.equal(aborted, true);
  });

  test('more requests in flight than the connection limit are refused with a rate-limit error', async () => {
    const limited = await startServer(HOST, { limits: { maxInFlight: 4 } });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    limited.server.handle('Test.Gate', () => gate);
    const c = limited.client();
    const calls = Array.from({ length: 6 }, () =>
      c.call('Test.Gate', null).then(
        () => 'ok',
        (error: Error) => error,
      ),
    );
    const refused = (await Promise.race([Promise.all(calls.slice(4)), sleep(1000)])) as Error[];
    assert.ok(
      refused.every((error) => error instanceof RpcRemoteError && error.message.startsWith(RATE_LIMIT_ERROR)),
    );
    open();
    assert.deepEqual(await Promise.all(calls.slice(0, 4)), ['ok', 'ok', 'ok', 'ok']);
    assert.equal(await counter(limited.registry, 'consul_rpc_request_error', { reason: 'busy' }), 2);
    c.close();
    await limited.server.close();
  });

  test('throughput: one connection, 64 concurrent callers', async (ctx) => {
    const callers = 64;
    const perCaller = 400;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        for (let i = 0; i < perCaller; i++) await client.call('Test.Echo', { Key: 'k', Value: i });
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    ctx.diagnostic(
      `${Math.round((callers * perCaller) / seconds)} calls/s (${callers * perCaller} calls, ${callers} callers, 1 connection)`,
    );
  });
});

describe('rpc connections', () => {
  test('a dead server fails calls fast, and the client reconnects once it is back', async () => {
    const first = await startServer(HOST);
    const { address } = first;
    const port = Number(address.split(':')[1]);
    const client = first.client({ backoff: { minMs: 20, maxMs: 100 } });
    first.server.handle('Test.Hang', () => new Promise(() => {}));
    assert.equal(await client.call('Test.Echo', 'before'), 'before');

    const inFlight = client.call('Test.Hang', null);
    await first.server.close();
    await within(500, assert.rejects(inFlight, RpcConnectionError), 'in-flight call failing on restart');
    await assert.rejects(client.call('Test.Echo', null), RpcConnectionError);
    const refusedAt = Date.now();
    await assert.rejects(client.call('Test.Echo', null), /next attempt in/);
    assert.ok(Date.now() - refusedAt < 50, 'calls fail fast while backing off');

    const second = await startServer(HOST, { port });
    let answer: unknown;
    for (const deadline = Date.now() + 2000; answer === undefined && Date.now() < deadline; await sleep(20)) {
      answer = await client.call('Test.Echo', 'after').catch(() => undefined);
    }
    assert.equal(answer, 'after');
    client.close();
    await second.server.close();
  });

  test('one-way messages to a server that stops reading are dropped once the queue bound is reached', async () => {
    // A black hole: the server accepts the connection and never reads, as a partitioned peer's kernel
    // stops acknowledging. What the client queues for it must stay bounded.
    const hole = await blackHole(HOST);
    const registry = new Registry();
    const limit = 1024 * 1024;
    const client = new RpcClient(hole.address, {
      logger: silent,
      registry,
      maxQueuedMessageBytes: limit,
    });
    const payload = 'x'.repeat(64 * 1024);
    client.send('Test.Note', payload);
    await once(hole.server, 'connection');
    for (let i = 0; i < 1000; i++) {
      client.send('Test.Note', payload);
      // Let the socket move what it can into the kernel, as a steady sender would.
      if (i % 50 === 0) await sleep(1);
    }
    const dropped = await counter(registry, 'tribune_rpc_messages_dropped');
    // The kernel's buffers on both ends take some megabytes; everything past them and the bound is dropped.
    assert.ok(dropped >= 500, `only ${dropped} of 1,000 messages of 64 KiB dropped`);
    client.close();
    hole.close();
  });

  test('a connection that carries messages but never answers a ping is dropped and dialled afresh', async () => {
    const hole = await blackHole(HOST);
    const client = new RpcClient(hole.address, {
      logger: silent,
      livenessProbe: { afterMs: 50, timeoutMs: 100 },
    });
    const sender = setInterval(() => client.send('Test.Note', 'hello?'), 10);
    await once(hole.server, 'connection');
    await within(2000, once(hole.server, 'connection'), 'a second connection after the unanswered ping');
    clearInterval(sender);
    client.close();
    hole.close();
  });

  test('the pool keeps one client per address and forgets removed ones', async () => {
    const t = await startServer(HOST);
    t.server.handle('Test.Hang', () => new Promise(() => {}));
    const pool = new RpcPool({ logger: silent });
    const client = pool.get(t.address);
    assert.equal(pool.get(t.address), client);
    assert.deepEqual(
      await Promise.all([1, 2, 3].map((n) => pool.get(t.address).call('Test.Echo', n))),
      [1, 2, 3],
    );
    const pending = client.call('Test.Hang', null);
    await sleep(20);
    pool.remove(t.address);
    await assert.rejects(pending, /client closed/);
    assert.notEqual(pool.get(t.address), client);
    assert.equal(await pool.get(t.address).call('Test.Echo', 4), 4);
    pool.close();
    await t.server.close();
  });
});
