import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checkCrc,
  decodeMessage,
  decodePacket,
  decodeSerfFilter,
  decodeSerfMessage,
  decodeSerfPingPayload,
  decodeSerfTags,
  decodeStream,
  decodeValue,
  decompressPayload,
  decryptPayload,
  encodeMessage,
  encodeSerfFilter,
  encodeSerfMessage,
  encodeSerfPingPayload,
  encodeSerfTags,
  encodeStreamMessage,
  GossipCodecError,
  Keyring,
  lzwCompress,
  originCoordinate,
  type SerfFilter,
  type SerfMessage,
  splitCompound,
} from '../../src/gossip/wire/index.ts';

// serf's layer, and packets captured from a real `serf agent` (Debian's serf 0.9.4: memberlist 0.2.x and
// the old hashicorp/go-msgpack) talking to our codec on 127.44.3.3, node "serf1" with tags role=web, dc=x,
// and us as node "trib" on port 28947. The encrypted captures used -encrypt=MDEyMzQ1Njc4OWFiY2RlZg==.
// Decoding them, and re-encoding every message to the same bytes, checks our msgpack forms, LZW and
// encryption against Go's without needing serf installed.

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytesOf = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
const CAPTURE_KEY = 'MDEyMzQ1Njc4OWFiY2RlZg==';

const PLAIN = {
  /** Our ping's ack, piggybacking serf's own alive: compound, then compressed. */
  ackAndAlive:
    '0982a4416c676f00a3427566da00ba000f08006009401301824e41099387cd9b3064b40110148090aa2064d4d49943a74d193774960118497264a92272e4bc91b3ec07be92234d212993e60c9a903ec8e1ab85681c9a78a3ac9419834924cc91468f2685b9b46453924f911e953ab5d49432719cbc3940c010298c64e490fac362c0805549dc8c0923c74d183a69deb80940aa49193a6160fd13248acc98507848a9645366d49d326248692553a6d49c3272ccc4200565259d667124049de3c6548002020414281010',
  /** serf probing us. */
  ping: '0085a44e6f6465a474726962a55365714e6f01aa536f7572636541646472a47f2c0303aa536f757263654e6f6465a57365726631aa536f75726365506f7274cd7112',
  /** Gossip to a protocol-5 peer carries a CRC. */
  suspect: '0ce678a0b90383a446726f6da57365726631ab496e6361726e6174696f6e01a44e6f6465a474726962',
  dead: '0c2fb857450583a446726f6da57365726631ab496e6361726e6174696f6e01a44e6f6465a474726962',
  /** `serf event deploy v1`. */
  userEvent: '0ce980d486080384a24343c3a54c54696d6501a44e616d65a66465706c6f79a75061796c6f6164a27631',
  suspectAndEvent:
    '0cdd9327c90702002400250383a446726f6da57365726631ab496e6361726e6174696f6e01a44e6f6465a474726962080384a24343c3a54c54696d6501a44e616d65a66465706c6f79a75061796c6f6164a27631',
  /** serf's answer to our push/pull join, as read off the TCP connection. */
  pushPull:
    '0982a4416c676f00a3427566da00dc000d0c22a5e44d1a37c34a397943a6cc9c00acaacc2923670a9d3074ca3029e3a69980268748052143460ea93f2c060c5895c4cd983072dc604cf3c64d00524dca5c84f54f9028326342e12125e70d9b32a3ee941143ca499836654a4d9463260629286fe4d069164742298b18cb001865658e1b53010a08105040ad215545ec70a4c3844a1aa8014cc59d3b879b0000c0020b1e4cb8b0e1c388132b5eccb8b1e3c790234b9e4cb9b2e5cb98336bdeccb9b3e7c7a5eade2d1360d546337472b61143710e245551ea50cc231a2f2bb074eacca9ed3090548a55010404',
};

const ENCRYPTED = {
  ackAndAlive:
    '017219f69ef5e15cee17deb37380d9dbe74d2d78c1d52467f92ad12a3769e3f6b0502c7fc53d55ac2a0bba59415c21a48baf02c8f9d4825eff7b0837a3e269e5bbb0935c85cb2fb6a71fc6d78f4d9def3890fd7e89d6a87b7c1d4ff4e70da62ea23df158f16637bef9d010cc59ec217a80b9bf5d763e1f681c974d5667b9571dc2e05d406ff050053a1432931e9b4119e596a88e531f91af8054d66684c7e1c289baacdaf57d83815da7a26ab27b7dbbb24db773320c335a96cfef1343c08444aff93f19033aeabea9dc136633350649f8101104f18c63108c4ec1c2d1393d2a6f128aa9fb5e',
  userEvent:
    '0194a35d90d995167f44a6e69e092a9e60a7a1b1bcb236f0054175e57c861586a07f3b0a1d4f94cca425dc42d7b5e3e9ed60aa9f29b75720770cb4ff6134f1ef18d5245977f31e',
  pushPull:
    '0a00000108012237a6cd5a2ac0ad71af32b49c5ce903432e77ac6e155fad63a25f7cbd76dc1e4697294f4387a6f9641a7d99bbe0d15d427be88c862f20f54d1555463b6a6e6cad1a9a72642539c3f26b820515cc07e2b86bd47abfc478e9cb4865645b18ec8dc8bf5fea0f1a4efc7a391846e2eb55a534a89c86572b6ea29f8ecbfa667d06cf9e35fd58a5acd99791312de8904f7d7c66ff8c7eba1bf49b65f57fbff224f49d7b28360366a8cb33aa7e43434fd7803238361a1a2ceed206f7451e7a6c6fd958d7740d636a40e0e1de531be60e5641a556894845ebe5c5643fc163d812bbcb583d5611e8d7c954cfb8a346c2ba8f9a11937db65769e49095900968db82d35241a27429ffa4f6e3',
};

const SERF_IP = [127, 44, 3, 3];

/**
 * Unwraps a packet by hand and checks that each message, and the LZW of a compressed one, re-encodes to
 * serf's exact bytes.
 */
function assertReencodes(packet: Uint8Array): void {
  let buf = packet;
  if (buf[0] === 12) buf = checkCrc(buf);
  if (buf[0] === 9) {
    const { Buf } = decodeValue(buf.subarray(1)) as { Buf: Uint8Array };
    buf = decompressPayload(buf.subarray(1), 1 << 20);
    assert.equal(hex(lzwCompress(buf)), hex(Buf), 'our LZW equals serf');
  }
  const parts = buf[0] === 7 ? splitCompound(buf.subarray(1)).parts : [buf];
  for (const part of parts) {
    const message = decodeMessage(part);
    assert.equal(hex(encodeMessage(message)), hex(part), `${message.type} re-encodes to serf's bytes`);
    if (message.type === 'user') {
      assert.equal(hex(encodeSerfMessage(decodeSerfMessage(message.body))), hex(message.body));
    }
  }
}

describe('captured from serf 0.9.4', () => {
  test('the ack carries serf coordinate and comes compound and compressed', () => {
    const packet = decodePacket(bytesOf(PLAIN.ackAndAlive));
    assert.deepEqual(packet.envelope, { encrypted: false, crc: false, compressed: true, compound: true });
    const [ack, alive] = packet.messages;
    assert.equal(ack?.type, 'ackResp');
    assert.equal(ack.body.SeqNo, 7);
    const coordinate = decodeSerfPingPayload(ack.body.Payload);
    assert.deepEqual(coordinate, originCoordinate());
    assert.equal(hex(encodeSerfPingPayload(coordinate)), hex(ack.body.Payload));
    assert.equal(alive?.type, 'alive');
    assert.equal(alive.body.Node, 'serf1');
    assert.deepEqual([...alive.body.Addr], SERF_IP);
    assert.equal(alive.body.Port, 28946);
    assert.deepEqual(alive.body.Vsn, [1, 5, 2, 2, 5, 5]);
    assert.deepEqual(decodeSerfTags(alive.body.Meta), { role: 'web', dc: 'x' });
    assertReencodes(bytesOf(PLAIN.ackAndAlive));
  });

  test("serf's probe names us and where to answer", () => {
    const [ping] = decodePacket(bytesOf(PLAIN.ping)).messages;
    assert.deepEqual(ping, {
      type: 'ping',
      body: {
        SeqNo: 1,
        Node: 'trib',
        SourceAddr: Uint8Array.from(SERF_IP),
        SourcePort: 28946,
        SourceNode: 'serf1',
      },
    });
    assertReencodes(bytesOf(PLAIN.ping));
  });

  test('suspect, dead and a user event arrive with a CRC', () => {
    for (const [name, type] of [
      ['suspect', 'suspect'],
      ['dead', 'dead'],
    ] as const) {
      const packet = decodePacket(bytesOf(PLAIN[name]));
      assert.equal(packet.envelope.crc, true);
      assert.deepEqual(packet.messages, [{ type, body: { Incarnation: 1, Node: 'trib', From: 'serf1' } }]);
      assertReencodes(bytesOf(PLAIN[name]));
    }
    const both = decodePacket(bytesOf(PLAIN.suspectAndEvent));
    assert.deepEqual(
      both.messages.map((m) => m.type),
      ['suspect', 'user'],
    );
    assertReencodes(bytesOf(PLAIN.suspectAndEvent));
    const [user] = decodePacket(bytesOf(PLAIN.userEvent)).messages;
    assert.equal(user?.type, 'user');
    const event = decodeSerfMessage(user.body);
    assert.deepEqual(event, {
      type: 'userEvent',
      body: { LTime: 1, Name: 'deploy', Payload: new Uint8Array(Buffer.from('v1')), CC: true },
    });
  });

  test('a flipped bit anywhere in a CRC packet is caught', () => {
    const packet = bytesOf(PLAIN.suspect);
    for (let i = 1; i < packet.length; i++) {
      const copy = packet.slice();
      copy[i]! ^= 0x10;
      assert.throws(
        () => decodePacket(copy),
        (e) => e instanceof GossipCodecError && e.reason === 'crc',
      );
    }
  });

  test("serf's push/pull answer: its node alive with its tags, and serf's own state", () => {
    const { message, envelope } = decodeStream(bytesOf(PLAIN.pushPull));
    assert.deepEqual(envelope, { encrypted: false, compressed: true });
    assert.equal(message.type, 'pushPull');
    assert.equal(message.body.join, true);
    assert.equal(message.body.nodes.length, 1);
    const [node] = message.body.nodes;
    assert.equal(node?.Name, 'serf1');
    assert.equal(node.State, 0);
    assert.equal(node.Incarnation, 1);
    assert.deepEqual(node.Vsn, [1, 5, 2, 2, 5, 5]);
    assert.deepEqual(decodeSerfTags(node.Meta), { role: 'web', dc: 'x' });
    const state = decodeSerfMessage(message.body.userState);
    assert.equal(state.type, 'pushPull');
    assert.equal(state.body.LTime, 1);
    assert.deepEqual([...state.body.StatusLTimes], [['serf1', 0]]);
    assert.deepEqual(state.body.LeftMembers, []);
    // serf sends its whole event ring, 512 slots, unused ones nil.
    assert.equal(state.body.Events.length, 512);
    assert.ok(state.body.Events.every((e) => e === null));
    // Our re-encoding of the whole push/pull and of serf's state is serf's, byte for byte.
    const inner = decompressPayload(bytesOf(PLAIN.pushPull).subarray(1), 1 << 20);
    assert.equal(hex(encodeStreamMessage(message)), hex(inner));
    assert.equal(hex(encodeSerfMessage(state)), hex(message.body.userState));
  });

  test('encrypted captures open with the key and re-encode the same inside', () => {
    const keyring = Keyring.fromBase64(CAPTURE_KEY);
    const packet = decodePacket(bytesOf(ENCRYPTED.ackAndAlive), { keyring });
    assert.deepEqual(packet.envelope, { encrypted: true, crc: false, compressed: true, compound: true });
    assert.deepEqual(
      packet.messages.map((m) => m.type),
      ['ackResp', 'alive'],
    );
    assertReencodes(decryptPayload(keyring.keys, bytesOf(ENCRYPTED.ackAndAlive)));
    const event = decodePacket(bytesOf(ENCRYPTED.userEvent), { keyring });
    assert.deepEqual(event.envelope, { encrypted: true, crc: true, compressed: false, compound: false });
    assert.equal(event.messages[0]?.type, 'user');
    const stream = decodeStream(bytesOf(ENCRYPTED.pushPull), { keyring });
    assert.deepEqual(stream.envelope, { encrypted: true, compressed: true });
    assert.equal(stream.message.type === 'pushPull' && stream.message.body.nodes[0]?.Name, 'serf1');
  });

  test('encrypted captures are refused without the key, or with another', () => {
    const other = new Keyring(new Uint8Array(16).fill(9));
    for (const capture of [ENCRYPTED.ackAndAlive, ENCRYPTED.userEvent]) {
      assert.throws(
        () => decodePacket(bytesOf(capture), { keyring: other }),
        (e) => e instanceof GossipCodecError && e.reason === 'decrypt',
      );
      assert.throws(() => decodePacket(bytesOf(capture)), GossipCodecError);
    }
    assert.throws(
      () => decodeStream(bytesOf(ENCRYPTED.pushPull), { keyring: other }),
      (e) => e instanceof GossipCodecError && e.reason === 'decrypt',
    );
    assert.throws(
      () => decodeStream(bytesOf(ENCRYPTED.pushPull)),
      (e) => e instanceof GossipCodecError && e.reason === 'decrypt',
    );
  });
});

describe('serf tags', () => {
  test('round-trip as 0xFF and a msgpack map', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 }), {
          maxKeys: 8,
        }),
        (tags) => {
          const meta = encodeSerfTags(tags);
          assert.equal(meta[0], 0xff);
          assert.deepEqual(decodeSerfTags(meta), { ...tags });
        },
      ),
    );
  });

  test('meta without the magic byte is the old role-only form', () => {
    assert.deepEqual(decodeSerfTags(new Uint8Array(Buffer.from('web'))), { role: 'web' });
    assert.deepEqual(decodeSerfTags(new Uint8Array(0)), { role: '' });
  });

  test('more than 512 bytes cannot be sent or accepted; broken maps are refused', () => {
    assert.throws(
      () => encodeSerfTags({ big: 'x'.repeat(600) }),
      (e) => e instanceof GossipCodecError && e.reason === 'encode',
    );
    // 0xFF, a fixmap, the key, then raw16 and 500 bytes.
    assert.equal(encodeSerfTags({ k: 'x'.repeat(500) }).length, 507);
    assert.throws(() => decodeSerfTags(new Uint8Array(513).fill(0xff)), GossipCodecError);
    assert.throws(() => decodeSerfTags(Uint8Array.of(0xff, 0x91, 0x01)), GossipCodecError);
    assert.throws(() => decodeSerfTags(Uint8Array.of(0xff, 0x81, 0xa1, 0x61, 0x01)), GossipCodecError);
    assert.throws(() => decodeSerfTags(Uint8Array.of(0xff, 0x82, 0xa1)), GossipCodecError);
  });
});

describe('serf messages', () => {
  const ltime = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const text = fc.string({ maxLength: 30 });
  const payload = fc.uint8Array({ maxLength: 100 });
  const serfMessage: fc.Arbitrary<SerfMessage> = fc.oneof(
    fc
      .record({ LTime: ltime, Node: text, Prune: fc.boolean() })
      .map((body) => ({ type: 'leave', body }) as const),
    fc.record({ LTime: ltime, Node: text }).map((body) => ({ type: 'join', body }) as const),
    fc
      .record({ LTime: ltime, Name: text, Payload: payload, CC: fc.boolean() })
      .map((body) => ({ type: 'userEvent', body }) as const),
    fc
      .record({
        LTime: ltime,
        // "__proto__" as a map key is refused by the msgpack decoder (a prototype-pollution guard), so the
        // codec cannot carry a member of that name: a known limit, left out of the round trip.
        StatusLTimes: fc
          .dictionary(
            fc.string({ minLength: 1, maxLength: 10 }).filter((name) => name !== '__proto__'),
            ltime,
          )
          .map((d) => new Map(Object.entries(d))),
        LeftMembers: fc.array(text, { maxLength: 5 }),
        EventLTime: ltime,
        Events: fc.array(
          fc.option(
            fc.record({
              LTime: ltime,
              Events: fc.array(fc.record({ Name: text, Payload: payload }), { maxLength: 3 }),
            }),
          ),
          { maxLength: 6 },
        ),
        QueryLTime: ltime,
      })
      .map((body) => ({ type: 'pushPull', body }) as const),
    fc
      .record({
        LTime: ltime,
        ID: u32,
        Addr: fc.uint8Array({ minLength: 4, maxLength: 4 }),
        Port: fc.integer({ min: 0, max: 0xffff }),
        SourceNode: text,
        Filters: fc.array(payload, { maxLength: 3 }),
        Flags: u32,
        RelayFactor: fc.integer({ min: 0, max: 255 }),
        Timeout: fc.integer({ min: -1e12, max: 1e12 }),
        Name: text,
        Payload: payload,
      })
      .map((body) => ({ type: 'query', body }) as const),
    fc
      .record({ LTime: ltime, ID: u32, From: text, Flags: u32, Payload: payload })
      .map((body) => ({ type: 'queryResponse', body }) as const),
    fc
      .record({
        DestAddr: fc.record({
          IP: fc.uint8Array({ minLength: 4, maxLength: 4 }),
          Port: fc.integer({ min: 0, max: 0xffff }),
          Zone: fc.constant(''),
        }),
        DestName: text,
        message: fc.uint8Array({ minLength: 1, maxLength: 50 }),
      })
      .map((body) => ({ type: 'relay', body }) as const),
  );
  const normal = (value: unknown) =>
    JSON.parse(
      JSON.stringify(value, (_k, v) =>
        v instanceof Uint8Array ? hex(v) : v instanceof Map ? [...v].sort() : v,
      ),
    );

  test('every serf message survives encode and decode', () => {
    fc.assert(
      fc.property(serfMessage, (m) => {
        assert.deepEqual(normal(decodeSerfMessage(encodeSerfMessage(m))), normal(m));
      }),
    );
  });

  test('a relayed query response keeps the inner message as sent', () => {
    const inner = encodeSerfMessage({
      type: 'queryResponse',
      body: { LTime: 3, ID: 9, From: 'trib', Flags: 0, Payload: Uint8Array.of(1) },
    });
    const relay = encodeSerfMessage({
      type: 'relay',
      body: {
        DestAddr: { IP: Uint8Array.of(127, 0, 0, 1), Port: 7946, Zone: '' },
        DestName: 'serf1',
        message: inner,
      },
    });
    const decoded = decodeSerfMessage(relay);
    assert.equal(decoded.type, 'relay');
    assert.equal(hex(decoded.body.message), hex(inner));
    assert.equal(decodeSerfMessage(decoded.body.message).type, 'queryResponse');
  });

  test('filters round-trip', () => {
    const filters: SerfFilter[] = [
      { type: 'node', nodes: ['a', 'b'] },
      { type: 'tag', tag: 'role', expr: '^web$' },
    ];
    for (const filter of filters) {
      assert.deepEqual(decodeSerfFilter(encodeSerfFilter(filter)), filter);
    }
    assert.throws(() => decodeSerfFilter(Uint8Array.of(2, 0x90)), GossipCodecError);
  });

  test('types never gossiped on their own, and hostile bytes, are codec errors', () => {
    for (const type of [6, 7, 8, 10, 200]) {
      assert.throws(
        () => decodeSerfMessage(Uint8Array.of(type, 0x80)),
        (e) => e instanceof GossipCodecError && e.reason === 'unsupported',
      );
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const decode of [decodeSerfMessage, decodeSerfTags, decodeSerfFilter, decodeSerfPingPayload]) {
          try {
            decode(bytes);
          } catch (error) {
            assert.ok(error instanceof GossipCodecError, String(error));
          }
        }
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(serfMessage, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, mask) => {
        const bytes = encodeSerfMessage(m);
        bytes[at % bytes.length]! ^= mask;
        try {
          decodeSerfMessage(bytes);
        } catch (error) {
          assert.ok(error instanceof GossipCodecError, String(error));
        }
      }),
      { numRuns: 500 },
    );
  });
});
