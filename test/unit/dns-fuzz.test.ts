import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import pino from 'pino';
import { agentConfigSchema } from '../../src/agent/config.ts';
import { DevBackend } from '../../src/agent/dev-backend.ts';
import { DnsCatalog } from '../../src/dns/catalog.ts';
import { DnsHandler } from '../../src/dns/handler.ts';
import { dnsOptions } from '../../src/dns/options.ts';
import { Recursors } from '../../src/dns/recursor.ts';
import { DnsServer } from '../../src/dns/server.ts';
import { parseRequest } from '../../src/dns/wire.ts';
import { StateStore } from '../../src/state/store.ts';

// Random and mutated packets thrown at the DNS server, seeded (DNS_FUZZ_SEED=<n> replays a run; the seed is in
// every failure message). Each packet must be dropped, refused with FORMERR/NOTIMP/REFUSED as the accept rules
// say, or answered with a well-formed reply to the same ID; nothing may reach the handler's last-resort error
// path; and after the barrage over real UDP and TCP sockets the server still answers.

const SEED = Number(process.env.DNS_FUZZ_SEED ?? randomInt(2 ** 31));
const CASES = Number(process.env.DNS_FUZZ_CASES ?? 4000);

/** mulberry32: small, fast and good enough to pick bytes. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)]! };
}
type Rng = ReturnType<typeof prng>;

const NAMES = [
  'web.service.consul',
  'WEB.Service.consul',
  'v1.web.service.dc1.consul',
  '_web._tcp.service.consul',
  '_web._tcp.consul',
  'node-1.node.consul',
  '0a000001.addr.dc1.consul',
  'consul',
  'nope.query.consul',
  'web.connect.consul',
  '1.0.0.10.in-addr.arpa',
  'example.com',
  '',
];
const TYPES: dnsPacket.RecordType[] = ['A', 'AAAA', 'SRV', 'TXT', 'SOA', 'NS', 'PTR', 'CNAME', 'MX', 'AXFR'];

function validQuery(rng: Rng): Buffer {
  const additionals: dnsPacket.Answer[] = [];
  if (rng.int(2)) {
    const options = rng.int(2)
      ? [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: 24, ip: '192.0.2.0' }]
      : [];
    additionals.push({
      type: 'OPT',
      name: '.',
      udpPayloadSize: rng.pick([0, 100, 512, 1232, 4096, 65535]),
      flags: 0,
      options,
    } as unknown as dnsPacket.Answer);
  }
  return dnsPacket.encode({
    id: rng.int(65536),
    type: 'query',
    flags: rng.int(2) ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [
      { name: rng.pick(NAMES), type: rng.pick(TYPES), class: rng.pick(['IN', 'IN', 'ANY', 'CH'] as const) },
    ],
    additionals,
  });
}

function mutate(rng: Rng, packet: Buffer): Buffer {
  let out = Buffer.from(packet);
  const steps = 1 + rng.int(4);
  for (let i = 0; i < steps; i++) {
    switch (rng.int(8)) {
      case 0: // flip a bit
        if (out.length) out[rng.int(out.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // set a byte
        if (out.length) out[rng.int(out.length)] = rng.int(256);
        break;
      case 2: // cut
        out = out.subarray(0, rng.int(out.length + 1));
        break;
      case 3: // append garbage
        out = Buffer.concat([out, randomBytes(rng, rng.int(40))]);
        break;
      case 4: // a count field
        if (out.length >= 12) out.writeUInt16BE(rng.pick([0, 1, 2, 3, 255, 65535]), 4 + 2 * rng.int(4));
        break;
      case 5: // a compression pointer somewhere, often at or near itself
        if (out.length >= 14) {
          const at = 12 + rng.int(out.length - 13);
          const target = rng.int(2) ? at : rng.int(out.length + 64);
          out[at] = 0xc0 | ((target >> 8) & 0x3f);
          out[at + 1] = target & 0xff;
        }
        break;
      case 6: // a label length byte gone wrong
        if (out.length > 12)
          out[12 + rng.int(Math.min(out.length - 12, 30))] = rng.pick([63, 64, 127, 128, 191, 255]);
        break;
      default: // opcode and flags
        if (out.length >= 4) out.writeUInt16BE(rng.int(65536), 2);
    }
  }
  return out;
}

/** A header and a question of many labels of odd lengths, random type and class, random counts. */
function manyLabels(rng: Rng): Buffer {
  const labels: Buffer[] = [];
  const count = rng.int(200);
  for (let i = 0; i < count; i++) {
    const length = rng.pick([0, 1, 1, 2, 63, 64, rng.int(80)]);
    labels.push(Buffer.from([length]), Buffer.alloc(length, 0x61 + rng.int(26)));
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(rng.int(65536), 0);
  header.writeUInt16BE(rng.int(2) ? 0x0100 : rng.int(65536), 2);
  header.writeUInt16BE(rng.int(4) ? 1 : rng.int(4), 4);
  header.writeUInt16BE(rng.int(4) ? 0 : rng.int(3), 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(rng.pick([1, 28, 33, 255, 65280, rng.int(65536)]), 0);
  tail.writeUInt16BE(rng.pick([1, 1, 3, 255, rng.int(65536)]), 2);
  return Buffer.concat([header, ...labels, Buffer.from([0]), tail]);
}

function randomBytes(rng: Rng, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
  return bytes;
}

function generate(rng: Rng): Buffer {
  switch (rng.int(5)) {
    case 0:
      return randomBytes(rng, rng.int(rng.int(2) ? 40 : 700));
    case 1:
      return manyLabels(rng);
    case 2:
      return validQuery(rng);
    default:
      return mutate(rng, validQuery(rng));
  }
}

function store(): StateStore {
  const state = new StateStore();
  for (let i = 1; i <= 12; i++) {
    state.apply(i, {
      type: 'register',
      now: 0,
      node: {
        ID: '',
        Node: `node-${i}`,
        Address: `10.0.0.${i}`,
        Datacenter: 'dc1',
        TaggedAddresses: {},
        Meta: { rack: `r${i}`, 'rfc1035-x': 'y'.repeat(300) },
      },
      service: {
        Kind: '',
        ID: 'web',
        Service: 'web',
        Tags: ['v1'],
        Address: i % 3 === 0 ? `10.9.0.${i}` : i % 5 === 0 ? 'web.service.consul' : '',
        TaggedAddresses: {},
        Meta: {},
        Port: 80,
        Weights: { Passing: 1, Warning: 1 },
        EnableTagOverride: false,
        Proxy: null,
        Connect: { Native: i % 2 === 0 },
      },
      checks: [],
      skipNodeUpdate: false,
    });
  }
  return state;
}

/** Error-level log lines: the handler's last-resort path logs there, so any is a bug. */
const errors: string[] = [];
const log = pino(
  { level: 'warn' },
  new Writable({
    write(chunk, _encoding, done) {
      const line = String(chunk);
      if (JSON.parse(line).level >= 50) errors.push(line);
      done();
    },
  }),
);

const fail = (message: string): never => assert.fail(`${message} (replay with DNS_FUZZ_SEED=${SEED})`);

describe(`DNS fuzz (seed ${SEED})`, () => {
  const state = store();
  const reads = new DevBackend(state, 'id', '127.0.0.1:8300').reads;
  const options = dnsOptions(agentConfigSchema.parse({ nodeName: 'fuzz', dev: true, server: true }));
  const catalog = new DnsCatalog(state, reads, { allowStale: true, maxStaleMs: options.config.maxStaleMs });
  const handler = new DnsHandler(options, catalog, new Recursors([], 100, log), log);
  let server: DnsServer;
  let port: number;

  before(async () => {
    server = new DnsServer({ options, host: '127.0.0.1', port: 0, store: state, reads, log });
    await server.start();
    port = Number(server.address.split(':').pop());
  });
  after(() => server.stop());

  test(`${CASES} packets: each dropped, rejected as the rules say, or answered well-formed`, async (t) => {
    t.diagnostic(`seed ${SEED}`);
    const rng = prng(SEED);
    const counts = { dropped: 0, rejected: 0, answered: 0 };
    for (let i = 0; i < CASES; i++) {
      const packet = generate(rng);
      const transport = rng.int(2) ? 'udp' : 'tcp';
      const reply = await handler.handle(packet, transport);
      const parsed = parseRequest(packet);
      const where = `case ${i} (${packet.toString('hex')})`;
      if (!parsed.ok && parsed.drop) {
        if (reply !== undefined) fail(`${where}: answered a packet to drop`);
        counts.dropped++;
        continue;
      }
      if (!reply) return fail(`${where}: no reply`);
      if (reply.readUInt16BE(0) !== packet.readUInt16BE(0)) fail(`${where}: ID not echoed`);
      if (!(reply.readUInt16BE(2) & 0x8000)) fail(`${where}: QR not set`);
      const rcode = reply.readUInt16BE(2) & 0xf;
      if (!parsed.ok) {
        if (![1, 4, 5].includes(parsed.rcode) || rcode !== parsed.rcode) fail(`${where}: rcode ${rcode}`);
        counts.rejected++;
        continue;
      }
      let decoded: dnsPacket.DecodedPacket;
      try {
        decoded = dnsPacket.decode(reply);
      } catch (err) {
        return fail(`${where}: reply does not decode: ${(err as Error).message}`);
      }
      if (![0, 3, 4, 5].includes(rcode)) fail(`${where}: rcode ${rcode}`);
      if (decoded.questions?.length !== 1) fail(`${where}: question not echoed`);
      if (
        transport === 'udp' &&
        reply.length > Math.max(512, parsed.request.edns?.udpSize ?? 0) &&
        (decoded.answers?.length ?? 0) > 1
      )
        fail(`${where}: UDP reply of ${reply.length} bytes`);
      counts.answered++;
    }
    t.diagnostic(JSON.stringify(counts));
    assert.ok(counts.answered > CASES / 10, `answered only ${counts.answered} (seed ${SEED})`);
    assert.deepEqual(errors, [], `error logs (seed ${SEED})`);
  });

  test('the server still answers after a barrage over UDP and TCP', async () => {
    const rng = prng(SEED ^ 0x5eed);
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    for (let i = 0; i < 2000; i++) {
      const packet = generate(rng);
      if (packet.length > 0) udp.send(packet, port, '127.0.0.1');
    }
    // TCP: several connections of random frames, some with lying lengths, some cut off mid-frame.
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('data', () => {});
        const frames: Buffer[] = [];
        for (let i = 0; i < 30; i++) {
          const packet = generate(rng);
          const length = rng.int(8) === 0 ? rng.int(65536) : packet.length;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(length & 0xffff, 0);
          frames.push(prefix, packet);
        }
        socket.write(Buffer.concat(frames));
        await new Promise((resolve) => setTimeout(resolve, 50 + rng.int(100)));
        socket.destroy();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const query = dnsPacket.encode({
      id: 7,
      type: 'query',
      questions: [{ name: 'web.service.consul', type: 'A' }],
    });
    const viaUdp = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no UDP answer after the barrage (seed ${SEED})`)),
        3000,
      );
      udp.removeAllListeners('message');
      udp.on('message', (reply) => {
        if (reply.readUInt16BE(0) !== 7) return;
        clearTimeout(timer);
        resolve(reply);
      });
      udp.send(query, port, '127.0.0.1');
    });
    udp.close();
    assert.equal(dnsPacket.decode(viaUdp).answers!.length, 3);

    const viaTcp = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const timer = setTimeout(
        () => reject(new Error(`no TCP answer after the barrage (seed ${SEED})`)),
        3000,
      );
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          clearTimeout(timer);
          socket.destroy();
          resolve(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        }
      });
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(query.length, 0);
      socket.write(Buffer.concat([prefix, query]));
    });
    assert.equal(dnsPacket.decode(viaTcp).answers!.length, 12);
    assert.deepEqual(errors, [], `error logs (seed ${SEED})`);
  });
});
