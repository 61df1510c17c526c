import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encode } from '@msgpack/msgpack';
import type { RpcClient } from '../../src/rpc/client.ts';
import { type Envelope, encodeEnvelope } from '../../src/rpc/envelope.ts';
import { frame } from '../../src/rpc/frame.ts';
import type { RejectReason } from '../../src/rpc/metrics.ts';
import { CHUNK_COST } from '../../src/rpc/stream.ts';
import {
  counter,
  type RawPeer,
  rawPeer,
  sleep,
  startServer,
  type TestServer,
  within,
} from './rpc-harness.ts';

// Hostile and malformed input written with raw sockets to a server on 127.0.83.4. Each case is either
// answered with an error frame on a connection that stays usable, or ends with the server closing the
// connection; either way it is counted under its reason, and afterwards a fresh client gets right answers.

const HOST = '127.0.83.4';
const MAX_FRAME = 64 * 1024;
const FRAME_TIMEOUT_MS = 200;
const WINDOW = 16 * 1024;

const wire = (envelope: Envelope) => encodeEnvelope(envelope, MAX_FRAME);
const u32 = (n: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(n);
  return bytes;
};

interface Case {
  name: string;
  send(peer: RawPeer): Promise<void> | void;
  reason: RejectReason;
  /** The error text of the answer; without it the server must close the connection. */
  answer?: RegExp;
}

// A request nested as deep as the server accepts (100 arrays, the envelope's included); its echo would need
// one level more than the encoder allows. Written by hand, as our own encoder refuses it too.
const deepRequest = frame(
  Buffer.concat([Buffer.from([0x94, 0, 1]), encode('Test.Echo'), Buffer.alloc(99, 0x91), Buffer.from([1])]),
);
const bomb = Buffer.alloc(30_000);
for (let i = 0; i < bomb.length; i += 3) bomb.set([0xdc, 0xff, 0xff], i);

const cases: Case[] = [
  {
    name: 'a length prefix claiming 4 GiB',
    send: (p) => void p.socket.write(u32(0xffff_ffff)),
    reason: 'frame_too_large',
  },
  {
    name: 'a length one byte over the limit',
    send: (p) => void p.socket.write(u32(MAX_FRAME + 1)),
    reason: 'frame_too_large',
  },
  {
    name: 'an HTTP request sent to the RPC port',
    send: (p) => void p.socket.write('GET /v1/status/leader HTTP/1.1\r\nHost: 127.0.83.4\r\n\r\n'),
    reason: 'frame_too_large',
  },
  { name: 'a zero-length frame', send: (p) => void p.socket.write(u32(0)), reason: 'malformed' },
  {
    name: 'garbage msgpack',
    send: (p) => void p.socket.write(frame(Buffer.from([0xc1, 0xc1]))),
    reason: 'malformed',
  },
  {
    name: 'a map instead of an envelope',
    send: (p) => void p.socket.write(frame(encode({ Method: 'Test.Echo', Seq: 1 }))),
    reason: 'malformed',
  },
  {
    name: 'an envelope missing its body',
    send: (p) => void p.socket.write(frame(encode([0, 1, 'Test.Echo']))),
    reason: 'malformed',
  },
  {
    name: 'a negative request id',
    send: (p) => void p.socket.write(frame(encode([0, -1, 'Test.Echo', null]))),
    reason: 'malformed',
  },
  {
    name: 'array headers that would make the decoder allocate terabytes',
    send: (p) => void p.socket.write(frame(bomb)),
    reason: 'malformed',
  },
  {
    name: 'a response sent to the server',
    send: (p) => void p.socket.write(wire({ kind: 'response', id: 1, error: null, body: null })),
    reason: 'unexpected',
  },
  {
    name: 'a credit frame sent to the server',
    send: (p) => void p.socket.write(wire({ kind: 'credit', id: 1, bytes: 10 })),
    reason: 'unexpected',
  },
  {
    name: 'the same stream opened twice',
    send: (p) => {
      p.socket.write(wire({ kind: 'stream', id: 7, method: 'Test.Sink', body: null }));
      p.socket.write(wire({ kind: 'stream', id: 7, method: 'Test.Sink', body: null }));
    },
    reason: 'unexpected',
  },
  {
    name: 'stream chunks beyond the granted credit',
    send: (p) => {
      p.socket.write(wire({ kind: 'stream', id: 8, method: 'Test.Sink', body: null }));
      const data = new Uint8Array(WINDOW / 2 - CHUNK_COST);
      for (let i = 0; i < 3; i++) p.socket.write(wire({ kind: 'chunk', id: 8, data }));
    },
    reason: 'credit',
  },
  {
    name: 'a frame cut short by the peer',
    send: (p) => void p.socket.end(Buffer.concat([u32(100), Buffer.alloc(10)])),
    reason: 'truncated',
  },
  {
    name: 'a partial frame and then silence',
    send: (p) => void p.socket.write(Buffer.concat([u32(100), Buffer.alloc(3)])),
    reason: 'frame_timeout',
  },
  {
    name: 'a valid frame trickled one byte at a time (slowloris)',
    async send(p) {
      const bytes = wire({ kind: 'request', id: 1, method: 'Test.Echo', body: 'slow' });
      for (const byte of bytes) {
        if (p.socket.destroyed) return;
        p.socket.write(Buffer.from([byte]));
        await sleep(FRAME_TIMEOUT_MS / 8);
      }
    },
    reason: 'frame_timeout',
  },
  {
    name: 'an unknown method',
    send: (p) => void p.socket.write(wire({ kind: 'request', id: 1, method: 'Evil.Method', body: null })),
    reason: 'unknown_method',
    answer: /^rpc: can't find method Evil\.Method$/,
  },
  {
    name: 'a stream to an unknown method',
    send: (p) => void p.socket.write(wire({ kind: 'stream', id: 1, method: 'Evil.Stream', body: null })),
    reason: 'unknown_method',
    answer: /^rpc: can't find method Evil\.Stream$/,
  },
  {
    name: 'a request whose answer would nest too deeply to encode',
    send: (p) => void p.socket.write(deepRequest),
    reason: 'handler',
    answer: /^rpc: cannot send the response: .*Too deep/,
  },
];

describe('hostile input', () => {
  let t: TestServer;
  let client: RpcClient;
  before(async () => {
    t = await startServer(HOST, {
      limits: { maxFrameBytes: MAX_FRAME, frameTimeoutMs: FRAME_TIMEOUT_MS, streamWindowBytes: WINDOW },
    });
    t.server.handleStream('Test.Sink', () => new Promise(() => {}));
  });
  after(async () => {
    client?.close();
    await t.server.close();
  });

  for (const c of cases) {
    test(`${c.name}: ${c.answer ? 'answered with an error' : 'connection closed'}, counted as ${c.reason}`, async () => {
      const before = await counter(t.registry, 'consul_rpc_request_error', { reason: c.reason });
      const peer = await rawPeer(t.address);
      await c.send(peer);
      if (c.answer) {
        const answer = await within(1000, peer.next(), 'the error answer');
        assert.equal(answer.kind, 'response');
        assert.match((answer as { error: string }).error, c.answer);
        // The same connection still serves.
        peer.socket.write(wire({ kind: 'request', id: 2, method: 'Test.Echo', body: 'again' }));
        assert.deepEqual(await within(1000, peer.next(), 'the next answer'), {
          kind: 'response',
          id: 2,
          error: null,
          body: 'again',
        });
        peer.socket.destroy();
      } else {
        await within(FRAME_TIMEOUT_MS * 5, peer.closed, 'the server closing the connection');
      }
      assert.equal(await counter(t.registry, 'consul_rpc_request_error', { reason: c.reason }), before + 1);
      client ??= t.client();
      assert.deepEqual(await client.call('Test.Echo', { after: c.name }), { after: c.name });
    });
  }

  test('a one-way message to an unknown method is dropped and counted; the connection stays', async () => {
    const before = await counter(t.registry, 'consul_rpc_request_error', { reason: 'unknown_method' });
    const peer = await rawPeer(t.address);
    peer.socket.write(wire({ kind: 'message', method: 'Evil.Note', body: null }));
    peer.socket.write(wire({ kind: 'request', id: 3, method: 'Test.Echo', body: 3 }));
    assert.deepEqual(await within(1000, peer.next(), 'the answer'), {
      kind: 'response',
      id: 3,
      error: null,
      body: 3,
    });
    assert.equal(
      await counter(t.registry, 'consul_rpc_request_error', { reason: 'unknown_method' }),
      before + 1,
    );
    peer.socket.destroy();
  });
});

describe('hostile peers', () => {
  test('connections beyond the per-client limit are closed at once and counted', async () => {
    const t = await startServer(HOST, { limits: { maxConnectionsPerClient: 2 } });
    const peers = [await rawPeer(t.address), await rawPeer(t.address)];
    const third = await rawPeer(t.address);
    await within(1000, third.closed, 'the third connection closing');
    assert.equal(
      await counter(t.registry, 'consul_rpc_request_error', { reason: 'too_many_connections' }),
      1,
    );
    peers[0]!.socket.destroy();
    await peers[0]!.closed;
    await sleep(20);
    const client = t.client();
    assert.equal(await client.call('Test.Echo', 'room again'), 'room again');
    client.close();
    for (const peer of peers) peer.socket.destroy();
    await t.server.close();
  });

  test('a peer that never reads its answers stops being read', async () => {
    const t = await startServer(HOST);
    let served = 0;
    t.server.handle('Test.Big', () => {
      served++;
      return new Uint8Array(256 * 1024);
    });
    const peer = await rawPeer(t.address);
    peer.socket.pause(); // never read
    for (let id = 1; id <= 1000; id++) {
      peer.socket.write(wire({ kind: 'request', id, method: 'Test.Big', body: null }));
      if (id % 10 === 0) await sleep(2);
    }
    await sleep(300);
    assert.ok(served < 500, `the server answered ${served} of 1000 requests nobody read`);
    peer.socket.destroy();
    const client = t.client();
    assert.equal(await client.call('Test.Echo', 'fine'), 'fine');
    client.close();
    await t.server.close();
  });
});
