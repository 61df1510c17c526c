import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DEFAULT_VSN, type GossipMessage, type PushNodeState } from '../../src/gossip/messages.ts';
import {
  checkCrc,
  type DecodedPacket,
  type DecodedStream,
  decodeMessage,
  decodePacket,
  decodeSerfMessage,
  decodeSerfPingPayload,
  decodeSerfTags,
  decodeStream,
  decodeValue,
  decompressPayload,
  decryptPayload,
  encodeMessage,
  encodePacket,
  encodeSerfMessage,
  encodeSerfPingPayload,
  encodeSerfTags,
  encodeStream,
  GossipCodecError,
  Keyring,
  lzwCompress,
  originCoordinate,
  readStreamMessage,
  type SerfMessage,
  SerfQueryFlag,
  type StreamMessage,
  splitCompound,
} from '../../src/gossip/wire/index.ts';
import { randomLoopback } from '../helpers/dev-agent.ts';
import { missingPeer } from '../helpers/peers.ts';
import { type SerfAgent, startSerf, WAIT_MS, waitFor } from '../helpers/serf.ts';

// The wire codec against a real `serf agent` (Debian's serf 0.9.4, memberlist 0.2.x), each on its own random
// loopback address. We play a memberlist node by hand — no SWIM logic, just the codec and sockets — and
// check both directions: what serf sends decodes (and re-encodes to serf's exact bytes), and what we send
// serf accepts, as its own CLI and log report. Every wait is for an event (a packet, a log line, an exit).

const _execFileAsync = promisify(execFile);
const skip = missingPeer('serf', ['serf', 'version']);

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const octets = (host: string) => Uint8Array.from(host.split('.').map(Number));

// ---- our side: a hand-driven memberlist node

interface Received {
  raw: Buffer;
  from: RemoteInfo;
  decoded?: DecodedPacket;
  error?: unknown;
}

class Peer extends EventEmitter {
  readonly name = `tribune-${randomBytes(3).toString('hex')}`;
  readonly packets: Received[] = [];
  readonly streams: Socket[] = [];
  keyring: Keyring | undefined;

  private constructor(
    readonly host: string,
    readonly port: number,
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
  ) {
    super();
    udp.on('message', (raw, from) => {
      const received: Received = { raw, from };
      try {
        received.decoded = decodePacket(raw, { keyring: this.keyring });
      } catch (error) {
        received.error = error;
      }
      this.packets.push(received);
      this.emit('packet');
    });
    tcp.on('connection', (socket) => {
      this.streams.push(socket);
      this.emit('stream');
    });
  }

  /** Listens for TCP and UDP on one port of a random loopback address, as memberlist does. */
  static async start(keyring?: Keyring): Promise<Peer> {
    const host = randomLoopback();
    const tcp = createServer();
    tcp.listen(0, host);
    await once(tcp, 'listening');
    const port = (tcp.address() as { port: number }).port;
    const udp = createSocket('udp4');
    udp.bind(port, host);
    await once(udp, 'listening');
    const peer = new Peer(host, port, udp, tcp);
    peer.keyring = keyring;
    return peer;
  }

  get addr(): Uint8Array {
    return octets(this.host);
  }

  send(messages: GossipMessage[], host: string, port: number, keyring = this.keyring): void {
    this.udp.send(encodePacket(messages.map(encodeMessage), { keyring }), port, host);
  }

  /** A UDP ping to `serf` probing `node` (serf itself by default), with this peer as where the ack goes. */
  ping(serf: SerfAgent, seqNo: number, node = serf.name, keyring = this.keyring): void {
    const body = {
      SeqNo: seqNo,
      Node: node,
      SourceAddr: this.addr,
      SourcePort: this.port,
      SourceNode: this.name,
    };
    this.send([{ type: 'ping', body }], serf.host, serf.port, keyring);
  }

  /** Every message received so far, with the packet it came in. */
  *messages(): Generator<[GossipMessage, Received]> {
    for (const packet of this.packets)
      for (const message of packet.decoded?.messages ?? []) yield [message, packet];
  }

  /** The first message (already received or still to come) that `match` accepts. */
  message<T>(match: (message: GossipMessage, packet: Received) => T | undefined, what: string): Promise<T> {
    return waitFor(
      this,
      'packet',
      () => {
        for (const [message, packet] of this.messages()) {
          const found = match(message, packet);
          if (found !== undefined) return found;
        }
        return undefined;
      },
      what,
    );
  }

  /** The first serf message (already received or still to come) that `match` accepts. */
  serfMessage<T>(match: (message: SerfMessage) => T | undefined, what: string): Promise<T> {
    return this.message((m) => (m.type === 'user' ? match(decodeSerfMessage(m.body)) : undefined), what);
  }

  /** The next incoming TCP connection not taken yet. */
  async nextStream(): Promise<Socket> {
    await waitFor(
      this,
      'stream',
      () => (this.streams.length > 0 ? true : undefined),
      'a TCP connection from serf',
    );
    return this.streams.shift()!;
  }

  /** Our own state for a push/pull: alive, with tags in serf's Meta. */
  state(tags: Record<string, string>): PushNodeState {
    return {
      Name: this.name,
      Addr: this.addr,
      Port: this.port,
      Meta: encodeSerfTags(tags),
      Incarnation: 1,
      State: 0,
      Vsn: DEFAULT_VSN,
    };
  }

  /** serf's user state for a push/pull, as a joining serf node would send it. */
  serfState(): Uint8Array {
    return encodeSerfMessage({
      type: 'pushPull',
      body: {
        LTime: 1,
        StatusLTimes: new Map([[this.name, 1]]),
        LeftMembers: [],
        EventLTime: 1,
        Events: [],
        QueryLTime: 1,
      },
    });
  }

  /** Opens a TCP connection to serf, writes `bytes` and reads the one message serf answers with. */
  async exchange(serf: SerfAgent, bytes: Uint8Array, keyring = this.keyring): Promise<DecodedStream> {
    const socket = connect({ host: serf.host, port: serf.port, localAddress: this.host });
    try {
      await once(socket, 'connect');
      socket.write(bytes);
      return await readStreamMessage(socket, { keyring, timeoutMs: WAIT_MS });
    } finally {
      socket.destroy();
    }
  }

  async close(): Promise<void> {
    for (const socket of this.streams) socket.destroy();
    this.udp.close();
    await new Promise((resolve) => this.tcp.close(resolve));
  }
}

/** Re-encodes every message of a packet from serf and checks we write exactly serf's bytes. */
function assertReencodes(raw: Uint8Array, keyring?: Keyring): void {
  let buf = keyring ? decryptPayload(keyring.keys, raw) : raw;
  if (buf[0] === 12) buf = checkCrc(buf);
  if (buf[0] === 9) {
    const { Buf } = decodeValue(buf.subarray(1)) as { Buf: Uint8Array };
    buf = decompressPayload(buf.subarray(1), 1 << 20);
    assert.equal(hex(lzwCompress(buf)), hex(Buf), 'our LZW output equals serf');
  }
  for (const part of buf[0] === 7 ? splitCompound(buf.subarray(1)).parts : [buf]) {
    const message = decodeMessage(part);
    assert.equal(hex(encodeMessage(message)), hex(part), `${message.type} re-encodes to serf's bytes`);
  }
}

const TAGS = { role: 'web', dc: 'dc1' };
/** A long, repetitive tag makes our alive big enough that serf compresses its gossip of it. */
const OUR_TAGS = { role: 'tribune', zone: 'z'.repeat(300) };

describe('the gossip codec with a real serf agent', { skip, timeout: 120_000 }, () => {
  describe('without encryption', () => {
    let serf: SerfAgent;
    let peer: Peer;

    before(async () => {
      serf = await startSerf(`serf-${randomBytes(3).toString('hex')}`, [
        '-tag',
        'role=web',
        '-tag',
        'dc=dc1',
      ]);
      peer = await Peer.start();
    });
    after(async () => {
      await peer?.close();
      await serf?.stop();
    });

    test('a UDP ping is acked with serf coordinate as the payload', async () => {
      const seqNo = 1 + Math.floor(Math.random() * 1e6);
      peer.ping(serf, seqNo);
      const [ack, packet] = await peer.message(
        (m, p) => (m.type === 'ackResp' && m.body.SeqNo === seqNo ? ([m.body, p] as const) : undefined),
        'the ack',
      );
      assert.equal(packet.from.address, serf.host);
      assert.equal(packet.from.port, serf.port);
      const coordinate = decodeSerfPingPayload(ack.Payload);
      assert.equal(coordinate.Vec.length, 8);
      assert.ok(coordinate.Error > 0);
      assertReencodes(packet.raw);
    });

    test('a ping naming another node is ignored, as memberlist checks the name', async () => {
      const since = serf.output().length;
      peer.ping(serf, 5, 'someone-else');
      await serf.waitForLog(/unexpected node '?someone-else/, since);
    });

    test('a push/pull join: serf answers with its alive node and serf state, then lists us with our tags', async () => {
      const since = serf.output().length;
      const answer = await peer.exchange(
        serf,
        encodeStream({
          type: 'pushPull',
          body: { join: true, nodes: [peer.state(OUR_TAGS)], userState: peer.serfState() },
        }),
      );
      assert.equal(answer.envelope.compressed, true, 'serf compresses streams by default');
      assert.equal(answer.message.type, 'pushPull');
      const { join, nodes, userState } = answer.message.body;
      assert.equal(join, true);
      const self = nodes.find((n) => n.Name === serf.name);
      assert.ok(self, 'serf lists itself');
      assert.equal(self.State, 0);
      assert.deepEqual([...self.Addr], [...octets(serf.host)]);
      assert.equal(self.Port, serf.port);
      assert.deepEqual(self.Vsn, [1, 5, 2, 2, 5, 5]);
      assert.deepEqual(decodeSerfTags(self.Meta), TAGS);
      const state = decodeSerfMessage(userState);
      assert.equal(state.type, 'pushPull');
      assert.ok(state.body.StatusLTimes.has(serf.name));
      assert.ok(state.body.LTime >= 1);

      // serf merged our state: it announces us, and lists us alive with the tags it read from our Meta.
      await serf.waitForLog(
        new RegExp(`EventMemberJoin: ${peer.name} ${peer.host.replaceAll('.', '\\.')}`),
        since,
      );
      const { members } = JSON.parse(await serf.cli('members', '-format=json')) as {
        members: { name: string; addr: string; status: string; tags: Record<string, string> }[];
      };
      const us = members.find((m) => m.name === peer.name);
      assert.ok(us, `serf lists ${peer.name}`);
      assert.equal(us.status, 'alive');
      assert.equal(us.addr, `${peer.host}:${peer.port}`);
      assert.deepEqual(us.tags, OUR_TAGS);
    });

    test('serf takes our user events, as a packet and as a stream user message', async () => {
      const since = serf.output().length;
      const event = (name: string, ltime: number) =>
        encodeSerfMessage({
          type: 'userEvent',
          body: { LTime: ltime, Name: name, Payload: new Uint8Array(Buffer.from('from tribune')), CC: false },
        });
      peer.send([{ type: 'user', body: event('tribune-packet', 20) }], serf.host, serf.port);
      const socket = connect({ host: serf.host, port: serf.port, localAddress: peer.host });
      await once(socket, 'connect');
      socket.end(encodeStream({ type: 'user', body: event('tribune-stream', 21) }, { compress: true }));
      await once(socket, 'close');
      await serf.waitForLog(/Received event: user-event: tribune-packet/, since);
      await serf.waitForLog(/Received event: user-event: tribune-stream/, since);
    });

    test("serf's gossip: probes over UDP and TCP, compound and compressed packets, suspicion, events, queries", async () => {
      // A ping now is answered with our alive piggybacked: memberlist fills the ack's packet with broadcasts.
      peer.ping(serf, 99);
      // A user event and a query, sent through serf's CLI, come to us as gossip.
      await serf.cli('event', 'deploy', 'v1');
      const queryDone = serf.cli('query', '-format=json', '-timeout=3s', 'whoami', 'hello');
      const query = await peer.serfMessage((m) => (m.type === 'query' ? m.body : undefined), 'the query');
      assert.equal(query.Name, 'whoami');
      assert.equal(Buffer.from(query.Payload).toString(), 'hello');
      assert.equal(query.SourceNode, serf.name);
      assert.deepEqual([...query.Addr], [...octets(serf.host)]);
      assert.equal(query.Port, serf.port);
      // Answer as a serf member would: an ack when asked for one, then the response, straight to Addr:Port.
      const respond = (flags: number, payload: Uint8Array) =>
        peer.send(
          [
            {
              type: 'user',
              body: encodeSerfMessage({
                type: 'queryResponse',
                body: { LTime: query.LTime, ID: query.ID, From: peer.name, Flags: flags, Payload: payload },
              }),
            },
          ],
          serf.host,
          query.Port,
        );
      if (query.Flags & SerfQueryFlag.ack) respond(SerfQueryFlag.ack, new Uint8Array(0));
      respond(0, new Uint8Array(Buffer.from(`hello from ${peer.name}`)));
      const result = JSON.parse(await queryDone) as { Acks: string[]; Responses: Record<string, string> };
      assert.equal(result.Responses[peer.name], `hello from ${peer.name}`);
      if (query.Flags & SerfQueryFlag.ack) assert.ok(result.Acks.includes(peer.name));

      const event = await peer.serfMessage(
        (m) => (m.type === 'userEvent' && m.body.Name === 'deploy' ? m.body : undefined),
        'the user event',
      );
      assert.equal(event.Name, 'deploy');
      assert.equal(Buffer.from(event.Payload).toString(), 'v1');

      // serf's failure detector probes us. We never answer: not over UDP...
      const probe = await peer.message((m) => (m.type === 'ping' ? m.body : undefined), 'a probe');
      assert.equal(probe.Node, peer.name);
      assert.equal(probe.SourceNode, serf.name);
      assert.equal(probe.SourcePort, serf.port);
      // ...nor over TCP, where memberlist falls back to a compressed stream ping for protocol ≥ 3 peers.
      const socket = await peer.nextStream();
      const fallback = await readStreamMessage(socket, { timeoutMs: WAIT_MS });
      socket.destroy();
      assert.equal(fallback.envelope.compressed, true);
      assert.equal(fallback.message.type, 'ping');
      assert.equal(fallback.message.body.Node, peer.name);

      // So serf suspects us, and gossips that to us too.
      const suspect = await peer.message(
        (m) => (m.type === 'suspect' && m.body.Node === peer.name ? m.body : undefined),
        'a suspect message',
      );
      assert.equal(suspect.From, serf.name);
      assert.equal(suspect.Incarnation, 1);

      const aliveOfUs = await peer.message(
        (m, p) => (m.type === 'alive' && m.body.Node === peer.name ? p : undefined),
        'our alive, gossiped back',
      );
      assert.equal(aliveOfUs.decoded?.envelope.compressed, true, 'our big alive is compressed');
      await waitFor(
        peer,
        'packet',
        () => (peer.packets.some((p) => p.decoded?.envelope.compound) ? true : undefined),
        'a compound packet',
      );
      await waitFor(
        peer,
        'packet',
        () => (peer.packets.some((p) => p.decoded?.envelope.crc) ? true : undefined),
        'a packet with a CRC',
      );

      // Everything serf sent decoded, and re-encodes to serf's bytes.
      for (const packet of peer.packets) {
        assert.equal(packet.error, undefined, `packet ${packet.raw.toString('hex')} decoded`);
        assert.deepEqual(packet.decoded?.problems, []);
        assertReencodes(packet.raw);
      }
    });
  });

  describe('with an encryption key', () => {
    const key = randomBytes(16);
    const keyring = new Keyring(key);
    let serf: SerfAgent;
    let peer: Peer;

    before(async () => {
      serf = await startSerf(`serf-${randomBytes(3).toString('hex')}`, [
        `-encrypt=${key.toString('base64')}`,
        '-tag',
        'role=web',
        '-tag',
        'dc=dc1',
      ]);
      peer = await Peer.start(keyring);
    });
    after(async () => {
      await peer?.close();
      await serf?.stop();
    });

    test('an encrypted ping is acked encrypted', async () => {
      peer.ping(serf, 11);
      const packet = await peer.message(
        (m, p) => (m.type === 'ackResp' && m.body.SeqNo === 11 ? p : undefined),
        'the ack',
      );
      assert.equal(packet.decoded?.envelope.encrypted, true);
      assertReencodes(packet.raw, keyring);
    });

    test('a ping under another key is dropped by serf', async () => {
      const since = serf.output().length;
      peer.ping(serf, 12, serf.name, new Keyring(randomBytes(32)));
      await serf.waitForLog(/Decrypt packet failed/, since);
    });

    test('push/pull under a wrong key, or in plaintext, gets an encrypted error back', async () => {
      const wrong = new Keyring(randomBytes(24));
      const request: StreamMessage = {
        type: 'pushPull',
        body: { join: true, nodes: [peer.state(OUR_TAGS)], userState: peer.serfState() },
      };
      const socket = connect({ host: serf.host, port: serf.port, localAddress: peer.host });
      await once(socket, 'connect');
      socket.write(encodeStream(request, { keyring: wrong }));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      await once(socket, 'close');
      const reply = new Uint8Array(Buffer.concat(chunks));
      // Under the wrong key alone, serf's answer does not open...
      assert.throws(
        () => decodeStream(reply, { keyring: wrong }),
        (e) => e instanceof GossipCodecError && e.reason === 'decrypt',
      );
      // ...a keyring that also holds serf's key (not as primary) opens it: serf could not read us.
      const both = new Keyring(wrong.primaryKey, [key]);
      const answer = decodeStream(reply, { keyring: both });
      assert.deepEqual(answer.envelope, { encrypted: true, compressed: true });
      assert.equal(answer.message.type, 'err');
      assert.match(answer.message.body.Error, /No installed keys could decrypt/i);

      const plain = await peer.exchange(serf, encodeStream(request), keyring);
      assert.equal(plain.message.type, 'err');
      assert.match(plain.message.body.Error, /not encrypted/);
    });

    test('an encrypted push/pull join, then encrypted gossip, and serf takes our encrypted acks', async () => {
      const since = serf.output().length;
      const answer = await peer.exchange(
        serf,
        encodeStream(
          {
            type: 'pushPull',
            body: { join: true, nodes: [peer.state(OUR_TAGS)], userState: peer.serfState() },
          },
          { keyring, compress: true },
        ),
      );
      assert.deepEqual(answer.envelope, { encrypted: true, compressed: true });
      assert.equal(answer.message.type, 'pushPull');
      const self = answer.message.body.nodes.find((n) => n.Name === serf.name);
      assert.deepEqual(decodeSerfTags(self!.Meta), TAGS);
      assert.equal(decodeSerfMessage(answer.message.body.userState).type, 'pushPull');
      await serf.waitForLog(new RegExp(`EventMemberJoin: ${peer.name} `), since);

      // serf's probes arrive encrypted. Answer the first over UDP with our coordinate, as a serf node would.
      const first = await peer.message(
        (m, p) => (m.type === 'ping' ? ([m.body, p] as const) : undefined),
        'a probe',
      );
      assert.equal(first[1].decoded?.envelope.encrypted, true);
      peer.send(
        [
          {
            type: 'ackResp',
            body: { SeqNo: first[0].SeqNo, Payload: encodeSerfPingPayload(originCoordinate()) },
          },
        ],
        serf.host,
        serf.port,
      );
      // By the next probe serf has taken the ack: it now holds a coordinate for us, so `serf rtt` works.
      await peer.message(
        (m) => (m.type === 'ping' && m.body.SeqNo > first[0].SeqNo ? true : undefined),
        'a second probe',
      );
      assert.match(
        await serf.cli('rtt', peer.name),
        new RegExp(`Estimated ${peer.name} <-> ${serf.name} rtt`),
      );

      // Answer the TCP fallback ping (encrypted, compressed) with an encrypted ack: serf says it got through.
      const logMark = serf.output().length;
      const socket = await peer.nextStream();
      const ping = await readStreamMessage(socket, { keyring, timeoutMs: WAIT_MS });
      assert.deepEqual(ping.envelope, { encrypted: true, compressed: true });
      assert.equal(ping.message.type, 'ping');
      socket.write(
        encodeStream(
          { type: 'ackResp', body: { SeqNo: ping.message.body.SeqNo, Payload: new Uint8Array(0) } },
          { keyring, compress: true },
        ),
      );
      await serf.waitForLog(
        new RegExp(`Was able to connect to ${peer.name} but other probes failed`),
        logMark,
      );
      socket.destroy();

      const gossip = await peer.message(
        (m, p) =>
          m.type === 'alive' && m.body.Node === peer.name && p.decoded?.envelope.crc ? p : undefined,
        'our alive, gossiped back with a CRC',
      );
      assert.equal(gossip.decoded?.envelope.encrypted, true);
      for (const packet of peer.packets) {
        assert.equal(packet.error, undefined, `packet ${packet.raw.toString('hex')} decoded`);
        assertReencodes(packet.raw, keyring);
      }
      // Without the key nothing serf gossips is readable.
      for (const packet of peer.packets) {
        assert.throws(
          () => decodePacket(packet.raw, { keyring: new Keyring(randomBytes(16)) }),
          (e) => e instanceof GossipCodecError && e.reason === 'decrypt',
        );
      }
    });
  });
});
