import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import pino from 'pino';
import {
  type AgentConfigInput,
  agentConfigSchema,
  validatedAgentConfigSchema,
} from '../../src/agent/config.ts';
import { loadConfigFiles } from '../../src/agent/config-files.ts';
import { DevBackend } from '../../src/agent/dev-backend.ts';
import { DnsCatalog } from '../../src/dns/catalog.ts';
import { DnsHandler } from '../../src/dns/handler.ts';
import { addressOfArpa, hexAddress, parseLookup, zoneOf } from '../../src/dns/names.ts';
import { dnsOptions, parseRecursor } from '../../src/dns/options.ts';
import { rfc1464 } from '../../src/dns/records.ts';
import { Recursors } from '../../src/dns/recursor.ts';
import type { ReadGate } from '../../src/http/context.ts';
import { StateStore } from '../../src/state/store.ts';
import { serviceInput } from '../helpers/state-fixtures.ts';

// The DNS server's pieces without sockets: name parsing, options, and the handler on hostile and ordinary
// messages over a real state store.

const log = pino({ level: 'silent' });

function config(overrides: Partial<AgentConfigInput> = {}) {
  return agentConfigSchema.parse({ nodeName: 'unit', dev: true, server: true, ...overrides });
}

/** A store with `count` instances of "web" (node web-<i> at 10.0.<i / 250>.<i % 250>), all passing. */
function storeWith(count: number): StateStore {
  const store = new StateStore();
  let index = 0;
  for (let i = 1; i <= count; i++) {
    const node = `web-${i}`;
    const outcome = store.apply(++index, {
      type: 'register',
      now: 0,
      node: {
        ID: '',
        Node: node,
        Address: `10.0.${Math.floor(i / 250)}.${i % 250}`,
        Datacenter: 'dc1',
        TaggedAddresses: {},
        Meta: { rack: 'a' },
      },
      service: serviceInput('web'),
      checks: [],
      skipNodeUpdate: false,
    });
    assert.ok(outcome.ok);
  }
  return store;
}

function handlerFor(store: StateStore, overrides: Partial<AgentConfigInput> = {}, reads?: ReadGate) {
  const cfg = config(overrides);
  const options = dnsOptions(cfg);
  const gate = reads ?? new DevBackend(store, 'id', '127.0.0.1:8300').reads;
  const catalog = new DnsCatalog(store, gate, {
    allowStale: options.config.allowStale,
    maxStaleMs: options.config.maxStaleMs,
  });
  return new DnsHandler(options, catalog, new Recursors(options.recursors, 100, log), log);
}

function queryPacket(
  name: string,
  type: dnsPacket.RecordType = 'A',
  extra: Partial<dnsPacket.Packet> = {},
): Buffer {
  return dnsPacket.encode({
    id: 4242,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    ...extra,
  });
}

const rcodeOf = (reply: Buffer) => reply.readUInt16BE(2) & 0xf;

describe('names', () => {
  test('the kind label nearest the end splits the name', () => {
    assert.deepEqual(parseLookup(['web', 'service'], 1), {
      kind: 'service',
      service: 'web',
      tag: undefined,
      dc: undefined,
      connect: false,
    });
    assert.deepEqual(parseLookup(['a', 'b', 'web', 'service', 'dc2'], 1), {
      kind: 'service',
      service: 'web',
      tag: 'a.b',
      dc: 'dc2',
      connect: false,
    });
    assert.deepEqual(parseLookup(['_web', '_tcp', 'service'], 1), {
      kind: 'service',
      service: 'web',
      tag: undefined,
      dc: undefined,
      connect: false,
    });
    assert.deepEqual(parseLookup(['_web', '_v1', 'dc1'], 33), {
      kind: 'service',
      service: 'web',
      tag: 'v1',
      dc: 'dc1',
      connect: false,
    });
    // Without SRV the underscore form needs "service".
    assert.deepEqual(parseLookup(['_web', '_v1', 'dc1'], 1), { kind: 'invalid' });
    assert.deepEqual(parseLookup(['my', 'host', 'node', 'dc1', 'dc'], 1), {
      kind: 'node',
      node: 'my.host',
      dc: 'dc1',
    });
    assert.deepEqual(parseLookup(['web', 'service', 'a', 'b'], 1), { kind: 'invalid' });
    assert.deepEqual(parseLookup(['service'], 1), { kind: 'invalid' });
    assert.deepEqual(parseLookup(['7f000001', 'addr', 'dc1'], 1), {
      kind: 'addr',
      ip: '127.0.0.1',
      family: 4,
    });
    assert.deepEqual(parseLookup(['7f00001', 'addr', 'dc1'], 1), { kind: 'invalid' });
    assert.deepEqual(parseLookup(['20010db8000000000000000000000001', 'addr', 'dc1'], 1), {
      kind: 'addr',
      ip: '2001:db8:0:0:0:0:0:1',
      family: 6,
    });
    assert.deepEqual(parseLookup(['_q', '_tcp', 'query'], 33), { kind: 'query', query: 'q', dc: undefined });
  });

  test('zones: the longer of domain and alt domain first; arpa; the rest is outside', () => {
    assert.deepEqual(zoneOf(['web', 'service', 'consul'], 'consul', undefined), {
      kind: 'domain',
      labels: ['web', 'service'],
      zone: 'consul',
    });
    assert.deepEqual(zoneOf(['web', 'service', 'dc1', 'consul'], 'consul', 'dc1.consul'), {
      kind: 'domain',
      labels: ['web', 'service'],
      zone: 'dc1.consul',
    });
    assert.deepEqual(zoneOf(['xconsul'], 'consul', undefined), { kind: 'outside' });
    assert.deepEqual(zoneOf(['1', '0', '0', '127', 'in-addr', 'arpa'], 'consul', undefined), {
      kind: 'arpa',
    });
    assert.equal(addressOfArpa(['1', '0', '0', '127', 'in-addr', 'arpa']), '127.0.0.1');
    assert.equal(addressOfArpa(['300', '0', '0', '127', 'in-addr', 'arpa']), undefined);
  });

  test('hex addresses', () => {
    assert.equal(hexAddress('10.9.9.9'), '0a090909');
    assert.equal(hexAddress('2001:db8::1'), '20010db8000000000000000000000001');
    assert.equal(hexAddress('::ffff:1.2.3.4'), '00000000000000000000ffff01020304');
  });

  test('RFC 1464 text', () => {
    assert.equal(rfc1464('rack', 'a1'), 'rack=a1');
    assert.equal(rfc1464(' a=b` ', 'v`'), '` a`=b``` =v``');
  });
});

describe('options', () => {
  test('service_ttl: exact names win, then the longest * prefix', () => {
    const options = dnsOptions(
      config({ dnsConfig: { serviceTtlMs: { web: 10_000, 'w*': 5000, 'wi*': 7000, '*': 1000 } } }),
    );
    assert.equal(options.serviceTtl('web'), 10);
    assert.equal(options.serviceTtl('wiki'), 7);
    assert.equal(options.serviceTtl('wax'), 5);
    assert.equal(options.serviceTtl('db'), 1);
    assert.equal(dnsOptions(config()).serviceTtl('web'), 0);
  });

  test('defaults are Consul’s', () => {
    const { config: dns, domain, recursors } = dnsOptions(config());
    assert.equal(domain, 'consul');
    assert.deepEqual(recursors, []);
    assert.equal(dns.allowStale, true);
    assert.equal(dns.maxStaleMs, 87_600 * 3600_000);
    assert.equal(dns.udpAnswerLimit, 3);
    assert.equal(dns.aRecordLimit, 0);
    assert.equal(dns.enableTruncate, false);
    assert.equal(dns.onlyPassing, false);
    assert.deepEqual(dns.soa, { refresh: 3600, retry: 600, expire: 86400, minTtl: 0 });
  });

  test('recursor addresses', () => {
    assert.deepEqual(parseRecursor('8.8.8.8'), { host: '8.8.8.8', port: 53 });
    assert.deepEqual(parseRecursor('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseRecursor('::1'), { host: '::1', port: 53 });
    assert.deepEqual(parseRecursor('[::1]:5353'), { host: '::1', port: 5353 });
    assert.throws(() => parseRecursor('1.2.3.4:99999'), /Invalid recursor address/);
  });
});

describe('config files', () => {
  test('domain, alt_domain, recursors and dns_config from JSON and HCL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tribune-dns-config-'));
    try {
      const json = join(dir, 'a.json');
      writeFileSync(
        json,
        JSON.stringify({
          domain: 'example',
          recursors: ['1.1.1.1'],
          dns_config: {
            allow_stale: false,
            max_stale: '30s',
            service_ttl: { '*': '5s' },
            soa: { min_ttl: 7 },
          },
        }),
      );
      const hcl = join(dir, 'b.hcl');
      writeFileSync(
        hcl,
        'alt_domain = "alt.example"\nrecursors = ["9.9.9.9:5353"]\n' +
          'dns_config {\n  node_ttl = "1m"\n  only_passing = true\n  udp_answer_limit = 5\n  service_ttl = { web = "2s" }\n}\n',
      );
      const { config } = await loadConfigFiles([json, hcl], []);
      const parsed = agentConfigSchema.parse({ nodeName: 'n', dev: true, ...config });
      assert.equal(parsed.domain, 'example');
      assert.equal(parsed.altDomain, 'alt.example');
      assert.deepEqual(parsed.recursors, ['1.1.1.1', '9.9.9.9:5353']);
      assert.equal(parsed.dnsConfig.allowStale, false);
      assert.equal(parsed.dnsConfig.maxStaleMs, 30_000);
      assert.equal(parsed.dnsConfig.nodeTtlMs, 60_000);
      assert.equal(parsed.dnsConfig.onlyPassing, true);
      assert.equal(parsed.dnsConfig.udpAnswerLimit, 5);
      assert.deepEqual(parsed.dnsConfig.serviceTtlMs, { '*': 5000, web: 2000 });
      assert.deepEqual(parsed.dnsConfig.soa, { refresh: 3600, retry: 600, expire: 86400, minTtl: 7 });

      const bad = join(dir, 'c.json');
      writeFileSync(bad, JSON.stringify({ dns_config: { no_such_key: 1 } }));
      await assert.rejects(loadConfigFiles([bad], []), /invalid config key dns_config\.no_such_key/);
      writeFileSync(bad, JSON.stringify({ dns_config: { node_ttl: 'soon' } }));
      await assert.rejects(loadConfigFiles([bad], []), /dns_config\.node_ttl/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('alt_domain must differ from domain; domains must be DNS names', () => {
    const check = (input: object) =>
      validatedAgentConfigSchema.safeParse({ nodeName: 'n', dev: true, ...input });
    assert.equal(check({ domain: 'consul', altDomain: 'Consul.' }).success, false);
    assert.equal(check({ domain: 'bad domain' }).success, false);
    assert.equal(check({ domain: 'tribune.', altDomain: 'alt.example' }).success, true);
  });
});

describe('hostile and odd messages', () => {
  const store = storeWith(3);
  const handler = handlerFor(store);
  const valid = queryPacket('web.service.consul');

  test('too short for a header, or a response: dropped', async () => {
    assert.equal(await handler.handle(Buffer.alloc(0), 'udp'), undefined);
    assert.equal(await handler.handle(valid.subarray(0, 11), 'udp'), undefined);
    const response = Buffer.from(valid);
    response[2]! |= 0x80;
    assert.equal(await handler.handle(response, 'udp'), undefined);
  });

  test('opcodes other than QUERY: NOTIMP', async () => {
    for (const opcode of [1, 2, 4, 5, 15]) {
      const packet = Buffer.from(valid);
      packet.writeUInt16BE((packet.readUInt16BE(2) & ~0x7800) | (opcode << 11), 2);
      const reply = (await handler.handle(packet, 'udp'))!;
      assert.equal(rcodeOf(reply), 4, `opcode ${opcode}`);
      assert.equal(reply.readUInt16BE(0), 4242);
      assert.equal((reply.readUInt16BE(2) >> 11) & 0xf, opcode);
    }
  });

  test('bad counts and bad lengths: FORMERR', async () => {
    const withCounts = (qd: number, an: number, ns: number, ar: number) => {
      const packet = Buffer.from(valid);
      packet.writeUInt16BE(qd, 4);
      packet.writeUInt16BE(an, 6);
      packet.writeUInt16BE(ns, 8);
      packet.writeUInt16BE(ar, 10);
      return packet;
    };
    for (const counts of [
      [0, 0, 0, 0],
      [2, 0, 0, 0],
      [1, 2, 0, 0],
      [1, 0, 1, 0],
      [1, 0, 0, 3],
      [65535, 0, 0, 0],
      [1, 0, 0, 1],
      [1, 1, 0, 0],
    ]) {
      const reply = (await handler.handle(
        withCounts(...(counts as [number, number, number, number])),
        'udp',
      ))!;
      assert.equal(rcodeOf(reply), 1, `counts ${counts}`);
      assert.equal(reply.readUInt16BE(4), 0, 'no question echoed');
    }
    for (let cut = 12; cut < valid.length; cut++) {
      assert.equal(rcodeOf((await handler.handle(valid.subarray(0, cut), 'udp'))!), 1, `cut at ${cut}`);
    }
  });

  test('compression pointers: none in the question; loops anywhere are FORMERR', async () => {
    // The question's name is a pointer to itself.
    const self = Buffer.concat([valid.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    assert.equal(rcodeOf((await handler.handle(self, 'udp'))!), 1);
    // A valid question, then an additional record whose name points at itself.
    const loop = Buffer.concat([valid, Buffer.from([0xc0, valid.length, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0])]);
    loop.writeUInt16BE(1, 10);
    assert.equal(rcodeOf((await handler.handle(loop, 'udp'))!), 1);
    // A forward pointer.
    const forward = Buffer.concat([valid, Buffer.from([0xc0, 0xff, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0])]);
    forward.writeUInt16BE(1, 10);
    assert.equal(rcodeOf((await handler.handle(forward, 'udp'))!), 1);
  });

  test('127 one-letter labels fit in 255 bytes; 128 do not', async () => {
    const name = (labels: number) => Array.from({ length: labels }, () => 'a').join('.');
    const fits = Buffer.concat([valid.subarray(0, 12), nameBytes(name(127)), Buffer.from([0, 1, 0, 1])]);
    assert.equal(rcodeOf((await handler.handle(fits, 'udp'))!), 5, 'answered: refused, outside the domain');
    const tooLong = Buffer.concat([valid.subarray(0, 12), nameBytes(name(128)), Buffer.from([0, 1, 0, 1])]);
    assert.equal(rcodeOf((await handler.handle(tooLong, 'udp'))!), 1);
    const longLabel = Buffer.concat([
      valid.subarray(0, 12),
      Buffer.from([64]),
      Buffer.alloc(64, 0x61),
      Buffer.from([0, 0, 1, 0, 1]),
    ]);
    assert.equal(rcodeOf((await handler.handle(longLabel, 'udp'))!), 1);
  });

  test('labels with dots, spaces or bytes beyond ASCII: FORMERR', async () => {
    for (const label of ['we.b', 'we b', 'w\u00e9b', 'web\u0000']) {
      const bytes = Buffer.from(label, 'latin1');
      const packet = Buffer.concat([
        valid.subarray(0, 12),
        Buffer.from([bytes.length]),
        bytes,
        nameBytes('service.consul'),
        Buffer.from([0, 1, 0, 1]),
      ]);
      assert.equal(rcodeOf((await handler.handle(packet, 'udp'))!), 1, JSON.stringify(label));
    }
  });

  test('unknown classes are refused with the question echoed; unknown types get NODATA', async () => {
    const chaos = Buffer.from(valid);
    chaos.writeUInt16BE(3, chaos.length - 2);
    const refused = (await handler.handle(chaos, 'udp'))!;
    assert.equal(rcodeOf(refused), 5);
    assert.equal(refused.readUInt16BE(4), 1);
    assert.ok(refused.subarray(12).equals(chaos.subarray(12)));

    const odd = Buffer.from(valid);
    odd.writeUInt16BE(65280, odd.length - 4);
    const nodata = dnsPacket.decode((await handler.handle(odd, 'udp'))!);
    assert.equal((nodata.flags ?? 0) & 0xf, 0);
    assert.equal(nodata.answers!.length, 0);
    assert.equal(nodata.authorities![0]!.type, 'SOA');
    assert.equal(nodata.questions![0]!.type, 'UNKNOWN_65280');
  });

  test('two OPT records, or an OPT that lies about its length: FORMERR', async () => {
    const opt = {
      type: 'OPT',
      name: '.',
      udpPayloadSize: 1232,
      flags: 0,
      options: [],
    } as unknown as dnsPacket.Answer;
    const twice = queryPacket('web.service.consul', 'A', { additionals: [opt, opt] });
    assert.equal(rcodeOf((await handler.handle(twice, 'udp'))!), 1);
    const once = queryPacket('web.service.consul', 'A', { additionals: [opt] });
    const lying = Buffer.from(once);
    lying.writeUInt16BE(500, lying.length - 2);
    assert.equal(rcodeOf((await handler.handle(lying, 'udp'))!), 1);
    assert.equal(rcodeOf((await handler.handle(once, 'udp'))!), 0);
  });

  test('a zone transfer (AXFR) is refused with NOTIMP, as Consul refuses it', async () => {
    assert.equal(rcodeOf((await handler.handle(queryPacket('consul', 'AXFR'), 'tcp'))!), 4);
  });
});

describe('answers', () => {
  test('udp_answer_limit is capped at 8 without EDNS; TCP takes all', async () => {
    const handler = handlerFor(storeWith(20), { dnsConfig: { udpAnswerLimit: 20 } });
    const udp = dnsPacket.decode((await handler.handle(queryPacket('web.service.consul'), 'udp'))!);
    assert.equal(udp.answers!.length, 8);
    const tcp = dnsPacket.decode((await handler.handle(queryPacket('web.service.consul'), 'tcp'))!);
    assert.equal(tcp.answers!.length, 20);
  });

  test('a big SRV answer over UDP with EDNS keeps each target’s address and nothing else', async () => {
    const handler = handlerFor(storeWith(300));
    const opt = {
      type: 'OPT',
      name: '.',
      udpPayloadSize: 4000,
      flags: 0,
      options: [],
    } as unknown as dnsPacket.Answer;
    const bytes = (await handler.handle(
      queryPacket('web.service.consul', 'SRV', { additionals: [opt] }),
      'udp',
    ))!;
    assert.ok(bytes.length <= 4000 - 8);
    const reply = dnsPacket.decode(bytes);
    const targets = reply.answers!.map((rr) => (rr as dnsPacket.SrvAnswer).data.target);
    assert.ok(targets.length > 10 && targets.length < 300);
    const extra = reply.additionals!.filter((rr) => rr.type !== 'OPT').map((rr) => rr.name);
    assert.deepEqual(extra.sort(), [...targets].sort());
    const tcp = dnsPacket.decode((await handler.handle(queryPacket('web.service.consul', 'SRV'), 'tcp'))!);
    assert.equal(tcp.answers!.length, 300);
  });

  test('a server too far behind its leader reads through the leader; without one the answer is SERVFAIL', async () => {
    const store = storeWith(1);
    const asked: string[] = [];
    let leader = true;
    const gate: ReadGate = {
      prepare: async (mode) => {
        asked.push(mode);
        if (mode !== 'stale' && !leader) throw new Error('No cluster leader');
        return { knownLeader: leader, lastContactMs: 60_000 };
      },
    };
    const handler = handlerFor(store, { dnsConfig: { maxStaleMs: 10_000 } }, gate);
    assert.equal(rcodeOf((await handler.handle(queryPacket('web.service.consul'), 'udp'))!), 0);
    assert.deepEqual(asked, ['stale', 'default']);
    leader = false;
    assert.equal(rcodeOf((await handler.handle(queryPacket('web.service.consul'), 'udp'))!), 2);
    // Within max_stale the leader is not asked.
    asked.length = 0;
    const lenient = handlerFor(store, {}, gate);
    assert.equal(rcodeOf((await lenient.handle(queryPacket('web.service.consul'), 'udp'))!), 0);
    assert.deepEqual(asked, ['stale']);
    // allow_stale false always asks.
    asked.length = 0;
    leader = true;
    const strict = handlerFor(store, { dnsConfig: { allowStale: false } }, gate);
    assert.equal(rcodeOf((await strict.handle(queryPacket('web.service.consul'), 'udp'))!), 0);
    assert.deepEqual(asked, ['default']);
  });
});

describe('hostnames', () => {
  test('a service at a name in the domain: CNAME and its addresses; SRV to the name with them in extra', async () => {
    const store = storeWith(2);
    store.apply(100, {
      type: 'register',
      now: 0,
      node: {
        ID: '',
        Node: 'ext',
        Address: 'web.service.consul',
        Datacenter: 'dc1',
        TaggedAddresses: {},
        Meta: {},
      },
      service: {
        Kind: '',
        ID: 'alias',
        Service: 'alias',
        Tags: [],
        Address: '',
        TaggedAddresses: {},
        Meta: {},
        Port: 99,
        Weights: { Passing: 1, Warning: 1 },
        EnableTagOverride: false,
        Proxy: null,
        Connect: null,
      },
      checks: [],
      skipNodeUpdate: false,
    });
    const handler = handlerFor(store);
    const a = dnsPacket.decode((await handler.handle(queryPacket('alias.service.consul'), 'tcp'))!);
    assert.deepEqual(a.answers!.map((rr) => [rr.type, rr.name, (rr as { data: unknown }).data]).sort(), [
      ['A', 'web.service.consul', '10.0.0.1'],
      ['A', 'web.service.consul', '10.0.0.2'],
      ['CNAME', 'alias.service.consul', 'web.service.consul'],
    ]);
    const srv = dnsPacket.decode((await handler.handle(queryPacket('alias.service.consul', 'SRV'), 'tcp'))!);
    assert.deepEqual(
      srv.answers!.map((rr) => (rr as dnsPacket.SrvAnswer).data),
      [{ priority: 1, weight: 1, port: 99, target: 'web.service.consul' }],
    );
    assert.equal(srv.additionals!.filter((rr) => rr.type === 'A').length, 2);
    const node = dnsPacket.decode((await handler.handle(queryPacket('ext.node.consul'), 'tcp'))!);
    assert.equal(node.answers![0]!.type, 'CNAME');
    assert.equal(node.answers!.length, 3);
  });
});

function nameBytes(name: string): Buffer {
  const parts = name.split('.').flatMap((label) => [Buffer.from([label.length]), Buffer.from(label)]);
  return Buffer.concat([...parts, Buffer.from([0])]);
}
