import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decoder, Encoder, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { decodeEnvelope, type Envelope, encodeEnvelope, MAX_DEPTH } from '../../src/rpc/envelope.ts';
import { RpcEncodeError, RpcProtocolError } from '../../src/rpc/errors.ts';
import { FrameDecoder, frame } from '../../src/rpc/frame.ts';
import { checkMsgpack } from '../../src/rpc/msgpack-check.ts';

// The frame codec, envelope validation and the msgpack pre-check, on random and hostile bytes.

/** Cuts bytes at the given points (each taken modulo the length), as a socket may deliver them. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  return pieces;
}

function rejects(reason: RpcProtocolError['reason'], fn: () => unknown): void {
  assert.throws(fn, (error) => error instanceof RpcProtocolError && error.reason === reason);
}

const LIMIT = 1 << 20;

describe('frames', () => {
  test('bodies survive any split of the byte stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (bodies, cuts) => {
          const decoder = new FrameDecoder(LIMIT);
          const stream = Buffer.concat(bodies.map((body) => frame(body)));
          const decoded = split(stream, cuts).flatMap((piece) => decoder.push(piece));
          assert.deepEqual(
            decoded.map((body) => Buffer.from(body)),
            bodies.map((body) => Buffer.from(body)),
          );
          assert.equal(decoder.partial, false);
        },
      ),
    );
  });

  test('a length over the limit is refused from the header alone', () => {
    const decoder = new FrameDecoder(LIMIT);
    assert.deepEqual(decoder.push(Buffer.from([0xff, 0xff])), []);
    assert.equal(decoder.partial, true);
    rejects('frame_too_large', () => decoder.push(Buffer.from([0xff, 0xff])));
  });

  test('a frame exactly at the limit is accepted', () => {
    const body = Buffer.alloc(LIMIT, 7);
    assert.deepEqual(new FrameDecoder(LIMIT).push(frame(body)), [body]);
  });
});

// Through JSON text once, so -0 becomes the 0 that JSON (and msgpack's integers) can express.
const body = fc
  .jsonValue()
  .filter((value) => !JSON.stringify(value).includes('"__proto__"'))
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);
const id = fc.nat({ max: 0xffff_ffff });
const method = fc.string({ minLength: 1, maxLength: 40 });
const error = fc.option(fc.string(), { nil: null });
const envelope: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({ kind: fc.constant('request' as const), id, method, body }),
  fc.record({ kind: fc.constant('response' as const), id, error, body }),
  fc.record({ kind: fc.constant('message' as const), method, body }),
  fc.record({ kind: fc.constant('stream' as const), id, method, body }),
  fc.record({ kind: fc.constant('chunk' as const), id, data: fc.uint8Array() }),
  fc.record({ kind: fc.constant('end' as const), id, error }),
  fc.record({ kind: fc.constant('credit' as const), id, bytes: fc.integer({ min: 1, max: 2 ** 40 }) }),
);

describe('envelopes', () => {
  test('every envelope round-trips through a frame', () => {
    fc.assert(
      fc.property(envelope, (sent) => {
        const [body] = new FrameDecoder(LIMIT).push(encodeEnvelope(sent, LIMIT));
        const received = decodeEnvelope(body!);
        assert.deepEqual(normalise(received), normalise(sent));
      }),
    );
  });

  test('random bytes decode to an envelope or fail with RpcProtocolError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeEnvelope(bytes);
        } catch (error) {
          assert.ok(error instanceof RpcProtocolError, String(error));
        }
      }),
      { numRuns: 5000 },
    );
  });

  test('corrupted envelopes decode to an envelope or fail with RpcProtocolError', () => {
    fc.assert(
      fc.property(
        envelope,
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1 }),
        (sent, flips) => {
          const bytes = encodeEnvelope(sent, LIMIT).subarray(4);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          try {
            decodeEnvelope(bytes);
          } catch (error) {
            assert.ok(error instanceof RpcProtocolError, String(error));
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  const bad: [name: string, body: Uint8Array][] = [
    ['empty body', new Uint8Array()],
    ['the never-used type byte', Uint8Array.of(0xc1)],
    ['a map, not an array', encode({ kind: 'request' })],
    ['a bare string', encode('Status.Ping')],
    ['unknown tag', encode([9, 1, 'M', null])],
    ['request missing its body', encode([0, 1, 'M'])],
    ['request with an extra item', encode([0, 1, 'M', null, null])],
    ['negative id', encode([0, -1, 'M', null])],
    ['fractional id', encode([0, 1.5, 'M', null])],
    ['id over u32', encode([0, 2 ** 32, 'M', null])],
    ['numeric method', encode([0, 1, 42, null])],
    ['empty method', encode([0, 1, '', null])],
    ['method of 257 characters', encode([0, 1, 'm'.repeat(257), null])],
    ['numeric error', encode([1, 1, 500, null])],
    ['chunk data as a string', encode([4, 1, 'abc'])],
    ['zero credit', encode([6, 1, 0])],
    ['two values in one frame', Buffer.concat([encode([2, 'M', null]), encode(1)])],
    ['truncated array', encode([0, 1, 'M', null]).subarray(0, 4)],
    ['__proto__ key', Buffer.from('9400 01 a14d 81 a95f5f70726f746f5f5f 01'.replace(/ /g, ''), 'hex')],
    ['map with an array key', Buffer.from('9400 01 a14d 81 9101 01'.replace(/ /g, ''), 'hex')],
  ];
  for (const [name, bytes] of bad) {
    test(`rejects ${name}`, () => rejects('malformed', () => decodeEnvelope(bytes)));
  }

  test('nested array headers claiming 65,535 items each are refused before any is allocated', () => {
    // Unchecked, these 30 KB make the msgpack decoder allocate terabytes and abort the process.
    const bomb = Buffer.alloc(30_000);
    for (let i = 0; i < bomb.length; i += 3) bomb.set([0xdc, 0xff, 0xff], i);
    rejects('malformed', () => decodeEnvelope(bomb));
  });

  test('nesting deeper than the encoder allows is refused', () => {
    const deep = Buffer.concat([Buffer.alloc(MAX_DEPTH + 1, 0x91), Buffer.from([0xc0])]);
    rejects('malformed', () => decodeEnvelope(deep));
  });

  test('outgoing envelopes over the frame limit or nested too deep are refused', () => {
    const big = { kind: 'request', id: 1, method: 'M', body: new Uint8Array(LIMIT) } as const;
    assert.throws(() => encodeEnvelope(big, LIMIT), RpcEncodeError);
    let nested: unknown = 1;
    for (let i = 0; i < MAX_DEPTH; i++) nested = [nested];
    assert.throws(
      () => encodeEnvelope({ kind: 'message', method: 'M', body: nested }, LIMIT),
      RpcEncodeError,
    );
  });
});

describe('msgpack pre-check', () => {
  const anyValue = fc.anything({
    withBigInt: false,
    withBoxedValues: false,
    withDate: true,
    withMap: false,
    withSet: false,
    withTypedArray: false,
    withNullPrototype: false,
  });

  test('accepts whatever the encoder produces', () => {
    fc.assert(fc.property(anyValue, (value) => checkMsgpack(encode(value), MAX_DEPTH)));
  });

  test('accepts the deepest value the encoder will produce', () => {
    const encoder = new Encoder({ maxDepth: MAX_DEPTH });
    let deepest: unknown = 1;
    let bytes = encoder.encode(deepest);
    for (;;) {
      try {
        bytes = encoder.encode([deepest]);
        deepest = [deepest];
      } catch {
        break;
      }
    }
    checkMsgpack(bytes, MAX_DEPTH);
  });

  test('whatever it accepts decodes without error or decodes to a refusal the decoder makes itself', () => {
    // The decoder may still refuse some accepted bytes (a __proto__ key, an odd timestamp); what matters
    // is that nothing accepted makes it allocate beyond the input.
    const decoder = new Decoder();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          checkMsgpack(bytes, MAX_DEPTH);
        } catch {
          return;
        }
        try {
          decoder.decode(bytes);
        } catch (error) {
          assert.ok(error instanceof Error);
          assert.doesNotMatch(error.message, /Insufficient data|outside the bounds|Extra \d+/);
        }
      }),
      { numRuns: 20_000 },
    );
  });
});

/** Plain data to compare: bytes as arrays (a decoded chunk is a Buffer view), and nil as null. */
function normalise(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, normalise(v)]));
  }
  return value ?? null;
}
