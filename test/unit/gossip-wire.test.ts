import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type Alive,
  DEFAULT_VSN,
  type GossipMessage,
  type PushNodeState,
  type Vsn,
} from '../../src/gossip/messages.ts';
import {
  addCrc,
  checkCrc,
  compressPayload,
  crc32,
  decodeMessage,
  decodePacket,
  decodeStream,
  decryptPayload,
  encodeMessage,
  encodePacket,
  encodeStream,
  encodeStreamMessage,
  encryptedLength,
  encryptPayload,
  GoMsgpackWriter,
  GossipCodecError,
  type GossipCodecReason,
  Keyring,
  lzwCompress,
  MAX_PACKET_PLAIN_BYTES,
  makeCompound,
  StreamDecoder,
  type StreamMessage,
  splitCompound,
  validateKey,
} from '../../src/gossip/wire/index.ts';

// The memberlist wire codec without a peer: exact go-msgpack forms, round trips of every message through
// every wrapping, and hostile input (truncated, oversized, corrupted, wrongly keyed), which must only ever
// produce a GossipCodecError.

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function rejects(reason: GossipCodecReason | GossipCodecReason[], fn: () => unknown): void {
  const reasons = Array.isArray(reason) ? reason : [reason];
  assert.throws(fn, (error) => {
    assert.ok(error instanceof GossipCodecError, `expected a GossipCodecError, got ${error}`);
    assert.ok(
      reasons.includes(error.reason),
      `expected ${reasons.join('|')}, got ${error.reason}: ${error.message}`,
    );
    return true;
  });
}

/** Runs fn and fails unless it returns or throws a GossipCodecError. */
function onlyCodecErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof GossipCodecError)) throw error;
  }
}

// ---- arbitraries

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const name = fc.string({ unit: 'grapheme', maxLength: 40 });
const ip = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);
const optionalIp = fc.oneof(ip, fc.constant(new Uint8Array(0)));
const vsn: fc.Arbitrary<Vsn> = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((b) => [b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!] as const);
const meta = fc.uint8Array({ maxLength: 512 });

const message: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc
    .record({ SeqNo: u32, Node: name, SourceAddr: optionalIp, SourcePort: u16, SourceNode: name })
    .map((body) => ({ type: 'ping', body }) as const),
  fc
    .record({
      SeqNo: u32,
      Target: ip,
      Port: u16,
      Node: name,
      Nack: fc.boolean(),
      SourceAddr: optionalIp,
      SourcePort: u16,
      SourceNode: name,
    })
    .map((body) => ({ type: 'indirectPing', body }) as const),
  fc
    .record({ SeqNo: u32, Payload: fc.uint8Array({ maxLength: 300 }) })
    .map((body) => ({ type: 'ackResp', body }) as const),
  fc.record({ SeqNo: u32 }).map((body) => ({ type: 'nackResp', body }) as const),
  fc.record({ Incarnation: u32, Node: name, From: name }).map((body) => ({ type: 'suspect', body }) as const),
  fc.record({ Incarnation: u32, Node: name, From: name }).map((body) => ({ type: 'dead', body }) as const),
  fc
    .record({ Incarnation: u32, Node: name, Addr: ip, Port: u16, Meta: meta, Vsn: vsn })
    .map((body) => ({ type: 'alive', body }) as const),
  fc.record({ Error: fc.string({ maxLength: 100 }) }).map((body) => ({ type: 'err', body }) as const),
  fc.uint8Array({ maxLength: 300 }).map((body) => ({ type: 'user', body }) as const),
);

const nodeState: fc.Arbitrary<PushNodeState> = fc.record({
  Name: name,
  Addr: ip,
  Port: u16,
  Meta: meta,
  Incarnation: u32,
  State: fc.integer({ min: 0, max: 3 }),
  Vsn: vsn,
});

const streamMessage: fc.Arbitrary<StreamMessage> = fc.oneof(
  fc
    .record({
      join: fc.boolean(),
      nodes: fc.array(nodeState, { maxLength: 8 }),
      userState: fc.uint8Array({ maxLength: 2000 }),
    })
    .map((body) => ({ type: 'pushPull', body }) as const),
  fc.uint8Array({ maxLength: 2000 }).map((body) => ({ type: 'user', body }) as const),
  fc
    .record({ SeqNo: u32, Node: name, SourceAddr: optionalIp, SourcePort: u16, SourceNode: name })
    .map((body) => ({ type: 'ping', body }) as const),
  fc
    .record({ SeqNo: u32, Payload: fc.uint8Array({ maxLength: 100 }) })
    .map((body) => ({ type: 'ackResp', body }) as const),
  fc.record({ Error: fc.string({ maxLength: 100 }) }).map((body) => ({ type: 'err', body }) as const),
);

/** What travels in packets: errResp only ever goes back on a stream. */
const packetMessage = message.filter((m) => m.type !== 'err');

/** Go's zero-value view of a decoded message: empty omitempty fields come back empty, as they went. */
const normal = <T>(value: T): T =>
  JSON.parse(JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? hex(v) : v)));

const key16 = new Uint8Array(16).fill(1);
const key24 = new Uint8Array(24).fill(2);
const key32 = new Uint8Array(32).fill(3);

const alive = (overrides: Partial<Alive> = {}): GossipMessage => ({
  type: 'alive',
  body: {
    Incarnation: 1,
    Node: 'node-a',
    Addr: Uint8Array.of(127, 0, 0, 1),
    Port: 7946,
    Meta: new Uint8Array(0),
    Vsn: DEFAULT_VSN,
    ...overrides,
  },
});

describe('go-msgpack forms', () => {
  const written = (write: (w: GoMsgpackWriter) => void) => {
    const w = new GoMsgpackWriter();
    write(w);
    return hex(w.bytes());
  };

  test('unsigned integers take the smallest form', () => {
    assert.equal(
      written((w) => w.uint(0)),
      '00',
    );
    assert.equal(
      written((w) => w.uint(127)),
      '7f',
    );
    assert.equal(
      written((w) => w.uint(128)),
      'cc80',
    );
    assert.equal(
      written((w) => w.uint(255)),
      'ccff',
    );
    assert.equal(
      written((w) => w.uint(256)),
      'cd0100',
    );
    assert.equal(
      written((w) => w.uint(65535)),
      'cdffff',
    );
    assert.equal(
      written((w) => w.uint(65536)),
      'ce00010000',
    );
    assert.equal(
      written((w) => w.uint(0xffff_ffff)),
      'ceffffffff',
    );
    assert.equal(
      written((w) => w.uint(2 ** 32)),
      'cf0000000100000000',
    );
    assert.equal(
      written((w) => w.uint(Number.MAX_SAFE_INTEGER)),
      'cf001fffffffffffff',
    );
  });

  test('signed integers: non-negative as unsigned, negative in Go signed forms', () => {
    assert.equal(
      written((w) => w.int(5)),
      '05',
    );
    assert.equal(
      written((w) => w.int(200)),
      'ccc8',
    );
    assert.equal(
      written((w) => w.int(-1)),
      'ff',
    );
    assert.equal(
      written((w) => w.int(-32)),
      'e0',
    );
    assert.equal(
      written((w) => w.int(-33)),
      'd0df',
    );
    assert.equal(
      written((w) => w.int(-128)),
      'd080',
    );
    assert.equal(
      written((w) => w.int(-129)),
      'd1ff7f',
    );
    assert.equal(
      written((w) => w.int(-32769)),
      'd2ffff7fff',
    );
    assert.equal(
      written((w) => w.int(-(2 ** 31) - 1)),
      'd3ffffffff7fffffff',
    );
  });

  test('strings and bytes are legacy raw strings: fixstr, then raw16 — never str8 or bin', () => {
    assert.equal(
      written((w) => w.string('')),
      'a0',
    );
    assert.equal(written((w) => w.raw(new Uint8Array(31))).slice(0, 2), 'bf');
    assert.equal(written((w) => w.raw(new Uint8Array(32))).slice(0, 6), 'da0020');
    assert.equal(written((w) => w.raw(new Uint8Array(255))).slice(0, 6), 'da00ff');
    assert.equal(written((w) => w.raw(new Uint8Array(65536))).slice(0, 10), 'db00010000');
  });

  test('a ping is a map with sorted Go field names and omitempty fields left out', () => {
    const full = encodeMessage({
      type: 'ping',
      body: {
        SeqNo: 1,
        Node: 'trib',
        SourceAddr: Uint8Array.of(127, 44, 3, 3),
        SourcePort: 28946,
        SourceNode: 'serf1',
      },
    });
    // Byte for byte what serf 0.9.4 sent in a capture (see gossip-wire-serf.test.ts).
    assert.equal(
      hex(full),
      '0085a44e6f6465a474726962a55365714e6f01aa536f7572636541646472a47f2c0303aa536f757263654e6f6465a57365726631aa536f75726365506f7274cd7112',
    );
    const bare = encodeMessage({
      type: 'ping',
      body: { SeqNo: 1, Node: 'x', SourceAddr: new Uint8Array(0), SourcePort: 0, SourceNode: '' },
    });
    assert.equal(hex(bare), '0082a44e6f6465a178a55365714e6f01');
  });

  test('out-of-range values are refused when encoding', () => {
    rejects('encode', () => encodeMessage({ type: 'nackResp', body: { SeqNo: 2 ** 32 } }));
    rejects('encode', () => encodeMessage(alive({ Port: 70000 })));
    rejects('encode', () => encodeMessage(alive({ Addr: Uint8Array.of(1, 2, 3) })));
    rejects('encode', () => encodeMessage(alive({ Meta: new Uint8Array(513) })));
    rejects('encode', () => encodeMessage(alive({ Vsn: [1, 2, 3] as unknown as Vsn })));
  });
});

describe('messages', () => {
  test('every message survives encode and decode', () => {
    fc.assert(
      fc.property(message, (m) => {
        assert.deepEqual(normal(decodeMessage(encodeMessage(m))), normal(m));
      }),
    );
  });

  test('missing and nil fields are Go zero values; unknown keys are ignored', () => {
    const w = new GoMsgpackWriter();
    w.byte(3).mapHeader(3).string('Node').string('n1').string('From').nil().string('Extra').uint(9);
    assert.deepEqual(decodeMessage(w.bytes()), {
      type: 'suspect',
      body: { Incarnation: 0, Node: 'n1', From: '' },
    });
  });

  test('bin and str8, which go-msgpack reads but never writes, are accepted', () => {
    const w = new GoMsgpackWriter();
    w.byte(2).mapHeader(2).string('SeqNo').uint(5).string('Payload');
    w.append(Uint8Array.of(0xc4, 2, 0xaa, 0xbb));
    assert.deepEqual(normal(decodeMessage(w.bytes())), {
      type: 'ackResp',
      body: { SeqNo: 5, Payload: 'aabb' },
    });
    const n = new GoMsgpackWriter();
    n.byte(11).mapHeader(1).append(Uint8Array.of(0xd9, 5)).append(Buffer.from('SeqNo')).uint(3);
    assert.deepEqual(decodeMessage(n.bytes()), { type: 'nackResp', body: { SeqNo: 3 } });
  });

  test('values that do not fit the Go field are refused', () => {
    const msg = (fields: (w: GoMsgpackWriter) => void, type = 11) => {
      const w = new GoMsgpackWriter();
      w.byte(type);
      fields(w);
      return w.bytes();
    };
    rejects('malformed', () =>
      decodeMessage(
        msg((w) =>
          w
            .mapHeader(1)
            .string('SeqNo')
            .uint(2 ** 32),
        ),
      ),
    );
    rejects('malformed', () => decodeMessage(msg((w) => w.mapHeader(1).string('SeqNo').int(-1))));
    rejects('malformed', () => decodeMessage(msg((w) => w.mapHeader(1).string('SeqNo').string('7'))));
    rejects('malformed', () => decodeMessage(msg((w) => w.mapHeader(1).string('SeqNo').float64(1.5))));
    rejects('malformed', () => decodeMessage(msg((w) => w.arrayHeader(1).uint(1))));
    rejects('malformed', () => decodeMessage(msg((w) => w.nil())));
    // A struct value followed by junk.
    rejects('malformed', () => decodeMessage(msg((w) => w.mapHeader(0).uint(1))));
    // The alive checks that keep serf from crashing or misreading.
    const aliveWith = (field: string, write: (w: GoMsgpackWriter) => void) =>
      msg((w) => {
        w.mapHeader(4)
          .string('Addr')
          .raw(Uint8Array.of(1, 2, 3, 4))
          .string('Vsn')
          .raw(Uint8Array.from(DEFAULT_VSN));
        w.string('Node').string('n');
        w.string(field);
        write(w);
      }, 4);
    assert.equal(decodeMessage(aliveWith('Port', (w) => w.uint(1))).type, 'alive');
    rejects('malformed', () => decodeMessage(aliveWith('Vsn', (w) => w.raw(Uint8Array.of(1, 5, 2, 2, 5)))));
    rejects('malformed', () => decodeMessage(aliveWith('Addr', (w) => w.raw(Uint8Array.of(1, 2, 3)))));
    rejects('limit', () => decodeMessage(aliveWith('Meta', (w) => w.raw(new Uint8Array(513)))));
    rejects('malformed', () => decodeMessage(aliveWith('Node', (w) => w.raw(Uint8Array.of(0xff, 0xfe)))));
    rejects('limit', () => decodeMessage(aliveWith('Node', (w) => w.string('n'.repeat(2000)))));
  });

  test('types that are not single messages are refused', () => {
    for (const type of [6, 7, 9, 10, 12, 14, 244])
      rejects('unsupported', () => decodeMessage(Uint8Array.of(type, 0x80)));
    rejects('truncated', () => decodeMessage(new Uint8Array(0)));
  });

  test('every truncation of every message is a codec error, never a crash', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeMessage(m);
        for (let n = 0; n < bytes.length; n++) onlyCodecErrors(() => decodeMessage(bytes.subarray(0, n)));
      }),
      { numRuns: 50 },
    );
  });

  test('container headers claiming more items than bytes are refused before decoding', () => {
    const bomb = new Uint8Array(30_000);
    for (let i = 0; i < bomb.length; i += 5) bomb.set([0xdd, 0xff, 0xff, 0xff, 0xff], i);
    rejects(['truncated', 'limit'], () => decodeMessage(Uint8Array.of(4, ...bomb.subarray(0, 10))));
    rejects(['truncated', 'limit'], () => decodePacket(Uint8Array.of(4, ...bomb)));
    const deep = Uint8Array.of(0, ...new Uint8Array(100).fill(0x91), 0);
    rejects('limit', () => decodeMessage(deep));
    // ext types are never sent by memberlist.
    rejects('malformed', () => decodeMessage(Uint8Array.of(0, 0xd4, 0xff, 0)));
  });
});

describe('compound messages', () => {
  test('parts survive makeCompound and splitCompound', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 500 }), { maxLength: 255 }), (parts) => {
        const compound = makeCompound(parts);
        assert.equal(compound[0], 7);
        const split = splitCompound(compound.subarray(1));
        assert.equal(split.truncated, 0);
        assert.deepEqual(split.parts.map(hex), parts.map(hex));
      }),
      { numRuns: 30 },
    );
  });

  test('parts cut off by the packet are counted, the whole ones kept', () => {
    const compound = makeCompound([Uint8Array.of(1, 2), Uint8Array.of(3, 4, 5), Uint8Array.of(6)]);
    const split = splitCompound(compound.subarray(1, compound.length - 2));
    assert.deepEqual(split.parts.map(hex), ['0102']);
    assert.equal(split.truncated, 2);
    rejects('truncated', () => splitCompound(Uint8Array.of(3, 0, 1)));
    rejects('truncated', () => splitCompound(new Uint8Array(0)));
  });

  test('too many or too large parts cannot be sent', () => {
    rejects('encode', () => makeCompound(Array.from({ length: 256 }, () => new Uint8Array(1))));
    rejects('encode', () => makeCompound([new Uint8Array(65536)]));
  });
});

describe('CRC', () => {
  test('is CRC-32/IEEE, big-endian after type 12', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    const packet = addCrc(Uint8Array.of(4, 0x80));
    assert.equal(hex(packet.subarray(0, 1)), '0c');
    assert.deepEqual([...checkCrc(packet)], [4, 0x80]);
  });

  test('a wrong checksum rejects the packet', () => {
    const packet = encodePacket([encodeMessage(alive())], { crc: true });
    packet[packet.length - 1]! ^= 1;
    rejects('crc', () => decodePacket(packet));
    rejects('truncated', () => checkCrc(Uint8Array.of(12, 0, 0)));
  });
});

describe('encryption', () => {
  test('both versions and all key sizes round-trip, with the documented sizes', () => {
    for (const key of [key16, key24, key32]) {
      for (const version of [0, 1] as const) {
        for (const length of [0, 1, 15, 16, 17, 100]) {
          const plain = new Uint8Array(length).fill(7);
          const sealed = encryptPayload(version, key, plain);
          assert.equal(sealed[0], version);
          assert.equal(sealed.length, encryptedLength(version, length));
          assert.deepEqual([...decryptPayload([key], sealed)], [...plain]);
        }
      }
    }
    // Version 0 always pads: a 16-byte message gains a whole block.
    assert.equal(encryptedLength(0, 16), 1 + 12 + 32 + 16);
    assert.equal(encryptedLength(1, 16), 1 + 12 + 16 + 16);
  });

  test('decryption tries every key; a wrong key, a tampered byte, a bad version or a short message fails', () => {
    const sealed = encryptPayload(1, key24, Uint8Array.of(1, 2, 3), Uint8Array.of(9));
    assert.deepEqual([...decryptPayload([key16, key32, key24], sealed, Uint8Array.of(9))], [1, 2, 3]);
    rejects('decrypt', () => decryptPayload([key16, key32], sealed, Uint8Array.of(9)));
    rejects('decrypt', () => decryptPayload([key24], sealed, Uint8Array.of(8)));
    const tampered = sealed.slice();
    tampered[20]! ^= 0x40;
    rejects('decrypt', () => decryptPayload([key24], tampered, Uint8Array.of(9)));
    const future = sealed.slice();
    future[0] = 2;
    rejects('decrypt', () => decryptPayload([key24], future));
    rejects('truncated', () => decryptPayload([key24], sealed.subarray(0, 28)));
    rejects('truncated', () =>
      decryptPayload([key24], encryptPayload(0, key24, new Uint8Array(0)).subarray(0, 44)),
    );
    rejects('truncated', () => decryptPayload([key24], new Uint8Array(0)));
  });

  test('the keyring keeps the primary first, switches and removes keys as memberlist does', () => {
    const ring = new Keyring(key16, [key24]);
    assert.deepEqual(
      ring.keys.map((k) => k.length),
      [16, 24],
    );
    ring.addKey(key32);
    ring.addKey(key32);
    ring.useKey(key32);
    assert.deepEqual(
      ring.keys.map((k) => k.length),
      [32, 16, 24],
    );
    assert.throws(() => ring.removeKey(key32), RangeError);
    ring.removeKey(key16);
    assert.deepEqual(
      ring.keys.map((k) => k.length),
      [32, 24],
    );
    assert.throws(() => ring.useKey(key16), RangeError);
    assert.throws(() => validateKey(new Uint8Array(20)), RangeError);
    assert.equal(Keyring.fromBase64(Buffer.from(key16).toString('base64')).primaryKey.length, 16);
    assert.throws(() => Keyring.fromBase64('not base64!'), RangeError);
  });
});

describe('packets', () => {
  const options = fc.record({
    compress: fc.boolean(),
    crc: fc.boolean(),
    encrypt: fc.constantFrom(undefined, 0, 1) as fc.Arbitrary<0 | 1 | undefined>,
  });

  test('messages survive every combination of compound, compress, CRC and encryption', () => {
    const keyring = new Keyring(key32, [key16]);
    fc.assert(
      fc.property(fc.array(packetMessage, { minLength: 1, maxLength: 12 }), options, (messages, o) => {
        const packet = encodePacket(
          messages.map(encodeMessage),
          o.encrypt === undefined
            ? { compress: o.compress, crc: o.crc }
            : { compress: o.compress, crc: o.crc, keyring, encryptionVersion: o.encrypt },
        );
        // Receivers hold the key as a secondary: decryption must try it.
        const receiver = new Keyring(key16, [key32]);
        const decoded = decodePacket(packet, o.encrypt === undefined ? {} : { keyring: receiver });
        assert.deepEqual(normal(decoded.messages), normal(messages));
        assert.deepEqual(decoded.problems, []);
        assert.equal(decoded.envelope.encrypted, o.encrypt !== undefined);
        assert.equal(decoded.envelope.crc, o.crc);
        assert.equal(decoded.envelope.compound, messages.length > 1);
      }),
      { numRuns: 60 },
    );
  });

  test('compression is used only when it makes the packet smaller', () => {
    const small = encodePacket([encodeMessage({ type: 'nackResp', body: { SeqNo: 1 } })], { compress: true });
    assert.equal(decodePacket(small).envelope.compressed, false);
    const big = encodePacket([encodeMessage(alive({ Meta: new Uint8Array(400).fill(0x61) }))], {
      compress: true,
    });
    assert.equal(big[0], 9);
    assert.equal(decodePacket(big).envelope.compressed, true);
  });

  test('a bad part of a compound is reported while the other parts are kept', () => {
    const packet = makeCompound([
      encodeMessage(alive()),
      Uint8Array.of(4, 0xc1),
      Uint8Array.of(6, 0x80),
      encodeMessage({ type: 'nackResp', body: { SeqNo: 9 } }),
    ]);
    const decoded = decodePacket(packet);
    assert.deepEqual(
      decoded.messages.map((m) => m.type),
      ['alive', 'nackResp'],
    );
    assert.deepEqual(
      decoded.problems.map((p) => p.reason),
      ['malformed', 'unsupported'],
    );
  });

  test('nesting a compound in a compound, or compressing twice, is refused', () => {
    const inner = makeCompound([encodeMessage(alive())]);
    const nested = decodePacket(makeCompound([inner]));
    assert.deepEqual(nested.messages, []);
    assert.deepEqual(
      nested.problems.map((p) => p.reason),
      ['unsupported'],
    );
    rejects('unsupported', () => decodePacket(compressPayload(compressPayload(encodeMessage(alive())))));
    // The shapes memberlist does send: compress around a compound, and a compress part inside a compound.
    assert.equal(decodePacket(compressPayload(makeCompound([encodeMessage(alive())]))).messages.length, 1);
    assert.equal(decodePacket(makeCompound([compressPayload(encodeMessage(alive()))])).messages.length, 1);
  });

  test('stream-only and unknown types are refused on packets', () => {
    rejects('unsupported', () => decodePacket(encodeMessage({ type: 'err', body: { Error: 'x' } })));
    rejects('unsupported', () => decodePacket(Uint8Array.of(6, 0x80)));
    rejects('unsupported', () => decodePacket(Uint8Array.of(12, 1, 2)));
    rejects('unsupported', () => decodePacket(Uint8Array.of(99)));
    rejects('truncated', () => decodePacket(new Uint8Array(0)));
  });

  test('a compression bomb stops at the plaintext limit', () => {
    const bomb = compressPayload(new Uint8Array(5_000_000).fill(4));
    assert.ok(bomb.length < MAX_PACKET_PLAIN_BYTES, `bomb of ${bomb.length} bytes fits a datagram`);
    rejects('limit', () => decodePacket(bomb));
    rejects('limit', () => decodePacket(bomb, { maxPlainBytes: 1000 }));
  });

  test('broken compression is a decompress error', () => {
    const good = compressPayload(encodeMessage(alive({ Meta: new Uint8Array(300) })));
    rejects(['decompress', 'truncated', 'malformed'], () => decodePacket(good.subarray(0, good.length - 3)));
    const w = new GoMsgpackWriter();
    w.byte(9)
      .mapHeader(2)
      .string('Algo')
      .uint(1)
      .string('Buf')
      .raw(lzwCompress(encodeMessage(alive())));
    rejects('decompress', () => decodePacket(w.bytes()));
  });

  test('with a keyring, plaintext and wrongly keyed packets are refused unless verifyIncoming is off', () => {
    const keyring = new Keyring(key16);
    const plain = encodePacket([encodeMessage(alive())]);
    rejects('decrypt', () => decodePacket(plain, { keyring }));
    assert.equal(decodePacket(plain, { keyring, verifyIncoming: false }).envelope.encrypted, false);
    const other = encodePacket([encodeMessage(alive())], { keyring: new Keyring(key24) });
    rejects('decrypt', () => decodePacket(other, { keyring }));
  });

  test('random bytes and corrupted packets only ever raise codec errors', () => {
    const keyring = new Keyring(key16);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        onlyCodecErrors(() => decodePacket(bytes));
        onlyCodecErrors(() => decodePacket(bytes, { keyring, verifyIncoming: false }));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (messages, compress, flips) => {
          const packet = encodePacket(messages.map(encodeMessage), { compress, crc: false }).slice();
          for (const [at, mask] of flips) packet[at % packet.length]! ^= mask;
          onlyCodecErrors(() => decodePacket(packet));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('streams', () => {
  const keyring = new Keyring(key32);
  const streamOptions = fc.record({ compress: fc.boolean(), encrypt: fc.boolean() });

  /** Cuts bytes at the given points, as a socket may deliver them. */
  function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
    const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
    const pieces: Uint8Array[] = [];
    let start = 0;
    for (const point of [...points, bytes.length]) {
      pieces.push(bytes.subarray(start, point));
      start = point;
    }
    return pieces;
  }

  test('every stream message survives compression, encryption and any split of the bytes', () => {
    fc.assert(
      fc.property(streamMessage, streamOptions, fc.array(fc.nat(), { maxLength: 20 }), (m, o, cuts) => {
        const bytes = encodeStream(m, { compress: o.compress, keyring: o.encrypt ? keyring : undefined });
        const decoder = new StreamDecoder(o.encrypt ? { keyring } : {});
        let decoded: ReturnType<StreamDecoder['push']>;
        for (const piece of split(bytes, cuts)) decoded = decoder.push(piece) ?? decoded;
        assert.ok(decoded, 'message complete');
        assert.deepEqual(normal(decoded.message), normal(m));
        assert.equal(decoded.consumed, bytes.length);
        assert.deepEqual(decoded.envelope, { encrypted: o.encrypt, compressed: o.compress });
      }),
      { numRuns: 80 },
    );
  });

  test('a push/pull is laid out as memberlist writes it', () => {
    const raw = encodeStreamMessage({
      type: 'pushPull',
      body: { join: true, nodes: [], userState: Uint8Array.of(0xee, 0xff) },
    });
    // [6] {Join: true, Nodes: 0, UserStateLen: 2} then the user state bytes.
    assert.equal(hex(raw), '0683a44a6f696ec3a54e6f64657300ac5573657253746174654c656e02eeff');
    const user = encodeStreamMessage({ type: 'user', body: Uint8Array.of(1) });
    assert.equal(hex(user), '0881aa557365724d73674c656e0101');
  });

  test('the encrypted frame is [10][u32 length] and those five bytes are authenticated', () => {
    const bytes = encodeStream({ type: 'user', body: Uint8Array.of(1, 2, 3) }, { keyring });
    assert.equal(bytes[0], 10);
    const length = new DataView(bytes.buffer).getUint32(1);
    assert.equal(bytes.length, 5 + length);
    assert.equal(length, encryptedLength(1, 17)); // [8] {UserMsgLen: 3} and three bytes
    // Same ciphertext under a different header: the additional data no longer matches.
    const reframed = Uint8Array.of(10, 0, 0, 0, length + 1, ...bytes.subarray(5), 0);
    rejects('decrypt', () => decodeStream(reframed, { keyring }));
  });

  test('incomplete streams wait for more bytes; a complete-buffer decode of them is truncated', () => {
    const bytes = encodeStream({
      type: 'pushPull',
      body: {
        join: false,
        nodes: [
          {
            Name: 'a',
            Addr: Uint8Array.of(1, 2, 3, 4),
            Port: 1,
            Meta: new Uint8Array(0),
            Incarnation: 1,
            State: 0,
            Vsn: DEFAULT_VSN,
          },
        ],
        userState: new Uint8Array(10),
      },
    });
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(new StreamDecoder().push(bytes.subarray(0, n)), undefined);
      rejects('truncated', () => decodeStream(bytes.subarray(0, n)));
    }
  });

  test('counts and lengths over the limits are refused from the header alone', () => {
    const header = (fields: Record<string, number>) => {
      const w = new GoMsgpackWriter();
      w.byte(6).mapHeader(Object.keys(fields).length);
      for (const [k, v] of Object.entries(fields)) w.string(k).int(v);
      return w.bytes();
    };
    rejects('limit', () => new StreamDecoder().push(header({ Nodes: 2 ** 21, UserStateLen: 0 })));
    rejects('limit', () => new StreamDecoder().push(header({ Nodes: 0, UserStateLen: 2 ** 30 })));
    rejects('malformed', () => new StreamDecoder().push(header({ Nodes: -1, UserStateLen: 0 })));
    rejects('limit', () => new StreamDecoder({ keyring }).push(Uint8Array.of(10, 0xff, 0xff, 0xff, 0xff)));
    rejects('limit', () =>
      new StreamDecoder({ maxBytes: 100 }).push(header({ Nodes: 0, UserStateLen: 200 })),
    );
    const w = new GoMsgpackWriter();
    w.byte(8)
      .mapHeader(1)
      .string('UserMsgLen')
      .int(2 ** 26);
    rejects('limit', () => new StreamDecoder().push(w.bytes()));
  });

  test('encryption must match the keyring', () => {
    const plain = encodeStream({
      type: 'ping',
      body: { SeqNo: 1, Node: '', SourceAddr: new Uint8Array(0), SourcePort: 0, SourceNode: '' },
    });
    rejects('decrypt', () => decodeStream(plain, { keyring }));
    assert.equal(decodeStream(plain, { keyring, verifyIncoming: false }).message.type, 'ping');
    const sealed = encodeStream({ type: 'err', body: { Error: 'x' } }, { keyring });
    rejects('decrypt', () => decodeStream(sealed));
    rejects('decrypt', () => decodeStream(sealed, { keyring: new Keyring(key16) }));
  });

  test('types that are not stream messages, and double wrapping, are refused', () => {
    rejects('unsupported', () => decodeStream(Uint8Array.of(4, 0x80)));
    rejects('unsupported', () => decodeStream(Uint8Array.of(7, 0)));
    rejects('unsupported', () =>
      decodeStream(
        compressPayload(compressPayload(encodeStreamMessage({ type: 'user', body: Uint8Array.of(1) }))),
      ),
    );
  });

  test('random and corrupted streams only ever raise codec errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        onlyCodecErrors(() => decodeStream(bytes));
        onlyCodecErrors(() => decodeStream(bytes, { keyring }));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        streamMessage,
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (m, compress, flips) => {
          const bytes = encodeStream(m, { compress }).slice();
          for (const [at, mask] of flips) bytes[at % bytes.length]! ^= mask;
          onlyCodecErrors(() => decodeStream(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });
});
