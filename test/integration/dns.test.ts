import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { api } from '../helpers/http.ts';
import { missingPeer } from '../helpers/peers.ts';
import { type DnsAgent, dig, digRecords, flagSet, query, startDnsAgent } from './dns-harness.ts';

// The DNS interface of a real dev agent, asked with dig and with Node's resolver: healthy instances only, tags,
// nodes, NXDOMAIN and NODATA with the SOA, Consul's truncation, a second agent with its own domain, alt domain,
// dns_config and recursors (small UDP DNS servers started here), and a check turning critical.

const digMissing = missingPeer('dig', ['dig', '-v']);

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const rcode = (reply: dnsPacket.DecodedPacket) => (reply.flags ?? 0) & 0xf;
const answersOf = (reply: dnsPacket.DecodedPacket, type: string) =>
  (reply.answers ?? []).filter((rr) => rr.type === type);
/** A record's data (every record here but OPT has some). */
const dataOf = <T = string>(rr: dnsPacket.Answer): T => (rr as unknown as { data: T }).data;

let dns: DnsAgent;
let resolver: dnsPromises.Resolver;

async function register(body: object): Promise<void> {
  const response = await api(dns.agent.httpAddr, 'PUT', '/v1/catalog/register', body);
  assert.equal(response.status, 200, response.text);
}

/** A node with one instance of `service` and a service check in `status`. */
function instance(node: string, address: string, service: string, status: string, extra: object = {}) {
  return register({
    Node: node,
    Address: address,
    NodeMeta: { rack: `r-${node}` },
    Service: { ID: `${service}-${node}`, Service: service, Port: 8080, ...extra },
    Check: {
      CheckID: `${service}-${node}-check`,
      Name: 'probe',
      Status: status,
      ServiceID: `${service}-${node}`,
    },
  });
}

before(async () => {
  dns = await startDnsAgent();
  resolver = new dnsPromises.Resolver({ timeout: 3000, tries: 1 });
  resolver.setServers([dns.server]);
  await instance('web-1', '10.1.0.1', 'web', 'passing', { Tags: ['v1', 'primary'] });
  await instance('web-2', '10.1.0.2', 'web', 'warning', { Tags: ['v2'] });
  await instance('web-3', '10.1.0.3', 'web', 'critical', { Tags: ['v1'] });
  await instance('web-4', '10.1.0.4', 'web', 'passing', { Tags: ['v2'], Address: '10.9.9.9', Port: 9090 });
  await instance('db-1', '10.3.0.1', 'db', 'critical');
  await register({ Node: 'v6-node', Address: 'fd00::1', Service: { Service: 'six', Port: 1 } });
  for (let i = 1; i <= 30; i++) await instance(`many-${i}`, `10.2.0.${i}`, 'many', 'passing');
});
after(() => dns.agent.stop());

describe('services', () => {
  test('A records: only healthy instances (critical hidden, warning shown), node or service address', async () => {
    const addresses = (await resolver.resolve4('web.service.consul')).sort();
    assert.deepEqual(addresses, ['10.1.0.1', '10.1.0.2', '10.9.9.9']);
    // Every instance critical: the name has no answers.
    await assert.rejects(resolver.resolve4('db.service.consul'), { code: 'ENOTFOUND' });
  });

  test('SRV: targets are node names with their addresses in the additional section', async () => {
    const srv = await resolver.resolveSrv('web.service.consul');
    const byTarget = new Map(srv.map((r) => [r.name, r]));
    assert.deepEqual([...byTarget.keys()].sort(), [
      '0a090909.addr.dc1.consul',
      'web-1.node.dc1.consul',
      'web-2.node.dc1.consul',
    ]);
    assert.equal(byTarget.get('web-1.node.dc1.consul')!.port, 8080);
    assert.equal(byTarget.get('0a090909.addr.dc1.consul')!.port, 9090);
    assert.equal(byTarget.get('web-1.node.dc1.consul')!.priority, 1);

    const { reply } = await query(dns, { name: 'web.service.consul', type: 'SRV', tcp: true });
    const extra = new Map(
      (reply.additionals ?? []).filter((rr) => rr.type === 'A').map((rr) => [rr.name, dataOf(rr)]),
    );
    assert.equal(extra.get('web-1.node.dc1.consul'), '10.1.0.1');
    assert.equal(extra.get('0a090909.addr.dc1.consul'), '10.9.9.9');
    // Node meta rides along as TXT in the additional section (enable_additional_node_meta_txt).
    const txt = (reply.additionals ?? []).find(
      (rr) => rr.type === 'TXT' && rr.name === 'web-1.node.dc1.consul',
    );
    assert.equal(String(dataOf<Buffer[]>(txt!)[0]), 'rack=r-web-1');
    assert.ok(flagSet(reply, dnsPacket.AUTHORITATIVE_ANSWER));
  });

  test('tags: <tag>.<svc>.service and RFC 2782 _svc._tag / _svc._tcp, with or without "service"', async () => {
    assert.deepEqual((await resolver.resolve4('v1.web.service.consul')).sort(), ['10.1.0.1']);
    assert.deepEqual((await resolver.resolve4('V2.WEB.service.consul')).sort(), ['10.1.0.2', '10.9.9.9']);
    const tagged = await resolver.resolveSrv('_web._primary.service.consul');
    assert.deepEqual(
      tagged.map((r) => r.name),
      ['web-1.node.dc1.consul'],
    );
    assert.equal((await resolver.resolveSrv('_web._tcp.service.consul')).length, 3);
    assert.equal((await resolver.resolveSrv('_web._tcp.consul')).length, 3);
    assert.equal((await resolver.resolveSrv('_web._tcp.dc1.consul')).length, 3);
    await assert.rejects(resolver.resolve4('nope.web.service.consul'), { code: 'ENOTFOUND' });
  });

  test('names are case-insensitive and answers keep the case asked', async () => {
    const { reply } = await query(dns, { name: 'Web.SERVICE.Consul', type: 'A' });
    assert.equal(rcode(reply), NOERROR);
    assert.ok(answersOf(reply, 'A').every((rr) => rr.name === 'Web.SERVICE.Consul'));
    assert.equal(reply.questions![0]!.name, 'Web.SERVICE.Consul');
  });

  test('the datacenter may be named; an unknown one is NXDOMAIN', async () => {
    assert.equal((await resolver.resolve4('web.service.dc1.consul')).length, 3);
    assert.equal((await resolver.resolve4('web.service.dc1.dc.consul')).length, 3);
    await assert.rejects(resolver.resolve4('web.service.dc9.consul'), { code: 'ENOTFOUND' });
  });

  test('answers are shuffled', async () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 40 && firsts.size < 2; i++)
      firsts.add((await resolver.resolve4('web.service.consul'))[0]!);
    assert.equal(firsts.size, 2);
  });

  test('TTLs are 0 by default', async () => {
    const records = await resolver.resolve4('web.service.consul', { ttl: true });
    assert.ok(records.every((r) => r.ttl === 0));
  });
});

describe('nodes, addr and the zone', { skip: digMissing }, () => {
  test('<node>.node: A, TXT from node meta, ANY with both', async () => {
    assert.deepEqual(await resolver.resolve4('web-1.node.consul'), ['10.1.0.1']);
    assert.deepEqual(await resolver.resolveTxt('web-1.node.dc1.consul'), [['rack=r-web-1']]);
    const any = digRecords(await dig(dns, 'web-1.node.consul', 'ANY', '+noall', '+answer'));
    assert.deepEqual(any.map((r) => r[3]).sort(), ['A', 'TXT']);
    assert.deepEqual(await resolver.resolve6('v6-node.node.consul'), ['fd00::1']);
    await assert.rejects(resolver.resolve4('no-such-node.node.consul'), { code: 'ENOTFOUND' });
  });

  test('<hex>.addr.<dc>: the address itself', async () => {
    assert.deepEqual(await resolver.resolve4('0a000001.addr.dc1.consul'), ['10.0.0.1']);
    assert.deepEqual(await resolver.resolve6('fd000000000000000000000000000001.addr.dc1.consul'), [
      'fd00::1',
    ]);
  });

  test('NXDOMAIN for unknown names, NODATA for known names without the type, both with the SOA', async () => {
    for (const name of ['nope.service.consul', 'whatever.consul', 'consul', 'x.unknownkind.consul']) {
      const out = await dig(dns, name, 'A', '+noall', '+comments', '+authority');
      assert.match(out, /status: NXDOMAIN/, name);
      const soa = digRecords(out).find((r) => r[3] === 'SOA');
      assert.ok(soa, `${name}: SOA in the authority section`);
      assert.deepEqual(soa!.slice(0, 5), ['consul.', '0', 'IN', 'SOA', 'ns.consul.']);
      assert.equal(soa![5], 'hostmaster.consul.');
      assert.deepEqual(soa!.slice(7), ['3600', '600', '86400', '0']);
    }
    for (const [name, type] of [
      ['web.service.consul', 'AAAA'],
      ['web-1.node.consul', 'SRV'],
      ['web-1.node.consul', 'AAAA'],
      ['v6-node.node.consul', 'A'],
    ]) {
      const out = await dig(dns, name!, type!, '+noall', '+comments', '+answer', '+authority');
      assert.match(out, /status: NOERROR/, `${name} ${type}`);
      assert.match(out, /ANSWER: 0,/, `${name} ${type}`);
      assert.ok(
        digRecords(out).some((r) => r[3] === 'SOA'),
        `${name} ${type}: SOA`,
      );
    }
    await assert.rejects(resolver.resolve6('web.service.consul'), { code: 'ENODATA' });
  });

  test('SOA and NS name the servers; no recursion offered without recursors', async () => {
    const soa = digRecords(await dig(dns, 'consul', 'SOA', '+noall', '+answer'));
    assert.equal(soa[0]![3], 'SOA');
    const ns = await dig(dns, 'consul', 'NS', '+noall', '+answer', '+additional');
    const records = digRecords(ns);
    assert.deepEqual(records[0]!.slice(3), ['NS', 'dns-dev.node.dc1.consul.']);
    assert.deepEqual(records[1]!.slice(0, 1).concat(records[1]!.slice(3)), [
      'dns-dev.node.dc1.consul.',
      'A',
      dns.host,
    ]);
    const { reply } = await query(dns, { name: 'web.service.consul', type: 'A' });
    assert.equal(flagSet(reply, dnsPacket.RECURSION_AVAILABLE), false);
  });

  test('names outside the domain are refused without recursors; reverse lookups find nodes', async () => {
    assert.match(await dig(dns, 'example.com', 'A', '+noall', '+comments'), /status: REFUSED/);
    const ptr = digRecords(await dig(dns, '-x', '10.1.0.1', '+noall', '+answer'));
    assert.deepEqual(ptr[0]!.slice(3), ['PTR', 'web-1.node.dc1.consul.']);
    assert.match(await dig(dns, '-x', '192.0.2.77', '+noall', '+comments'), /status: NXDOMAIN/);
  });

  test('EDNS is echoed with the client subnet option', async () => {
    const out = await dig(
      dns,
      'web.service.consul',
      '+subnet=192.0.2.0/24',
      '+bufsize=1400',
      '+noall',
      '+comments',
    );
    assert.match(out, /udp: 1400/);
    assert.match(out, /CLIENT-SUBNET: 192\.0\.2\.0\/24\/0/);
    assert.doesNotMatch(
      await dig(dns, 'web.service.consul', '+noedns', '+noall', '+comments'),
      /OPT PSEUDOSECTION/,
    );
  });
});

describe('truncation', { skip: digMissing }, () => {
  test('UDP without EDNS: udp_answer_limit (3) answers, no TC bit by default', async () => {
    const { reply, size } = await query(dns, { name: 'many.service.consul', type: 'A' });
    assert.equal(answersOf(reply, 'A').length, 3);
    assert.equal(flagSet(reply, dnsPacket.TRUNCATED_RESPONSE), false);
    assert.ok(size <= 512);
    const srv = await query(dns, { name: 'many.service.consul', type: 'SRV' });
    assert.equal(answersOf(srv.reply, 'SRV').length, 3);
    assertSrvTargetsResolved(srv.reply);
  });

  test("UDP with EDNS: as much as fits in the client's size", async () => {
    const all = await query(dns, { name: 'many.service.consul', type: 'A', edns: 4096 });
    assert.equal(answersOf(all.reply, 'A').length, 30);
    const some = await query(dns, { name: 'many.service.consul', type: 'A', edns: 700 });
    const count = answersOf(some.reply, 'A').length;
    assert.ok(count > 3 && count < 30, `${count} answers in 700 bytes`);
    assert.ok(some.size <= 700);
    const srv = await query(dns, { name: 'many.service.consul', type: 'SRV', edns: 1232 });
    const srvCount = answersOf(srv.reply, 'SRV').length;
    assert.ok(srvCount > 3 && srvCount < 30, `${srvCount} SRV answers in 1232 bytes`);
    assert.ok(srv.size <= 1232);
    assertSrvTargetsResolved(srv.reply);
    // Each SRV target's address is there, and the additional section carries nothing else but the OPT.
    assert.equal((srv.reply.additionals ?? []).filter((rr) => rr.type === 'A').length, srvCount);
  });

  test('TCP answers whole', async () => {
    const { reply } = await query(dns, { name: 'many.service.consul', type: 'SRV', tcp: true });
    assert.equal(answersOf(reply, 'SRV').length, 30);
    assertSrvTargetsResolved(reply);
    const out = await dig(dns, 'many.service.consul', 'A', '+tcp', '+noall', '+answer');
    assert.equal(digRecords(out).length, 30);
  });

  test('dig through UDP sees three answers and no TC bit', async () => {
    const out = await dig(dns, 'many.service.consul', '+noedns', '+noall', '+comments', '+answer');
    assert.equal(digRecords(out).length, 3);
    assert.doesNotMatch(out, /flags:[^;]*\btc\b/);
  });
});

function assertSrvTargetsResolved(reply: dnsPacket.DecodedPacket): void {
  const extra = new Set((reply.additionals ?? []).filter((rr) => rr.type === 'A').map((rr) => rr.name));
  for (const srv of answersOf(reply, 'SRV')) {
    assert.ok(
      extra.has(dataOf<dnsPacket.SrvData>(srv).target),
      `A record for ${dataOf<dnsPacket.SrvData>(srv).target}`,
    );
  }
}

describe('health changes', () => {
  test('after a check turns critical the next query no longer returns the instance', async () => {
    const reg = await api(dns.agent.httpAddr, 'PUT', '/v1/agent/service/register', {
      Name: 'api',
      Port: 7000,
      Check: { CheckID: 'api-ttl', TTL: '60s' },
    });
    assert.equal(reg.status, 200, reg.text);
    await api(dns.agent.httpAddr, 'PUT', '/v1/agent/check/pass/api-ttl');
    assert.deepEqual(await resolver.resolve4('api.service.consul'), [dns.host]);
    const failed = await api(dns.agent.httpAddr, 'PUT', '/v1/agent/check/fail/api-ttl');
    assert.equal(failed.status, 200, failed.text);
    await assert.rejects(resolver.resolve4('api.service.consul'), { code: 'ENOTFOUND' });
    await api(dns.agent.httpAddr, 'PUT', '/v1/agent/check/warn/api-ttl');
    assert.deepEqual(await resolver.resolve4('api.service.consul'), [dns.host]);
  });

  test('DNS queries are timed under consul.dns.domain_query', async () => {
    await query(dns, { name: '1.0.1.10.in-addr.arpa', type: 'PTR' });
    const { text } = await api(dns.agent.httpAddr, 'GET', '/v1/agent/metrics?format=prometheus');
    assert.match(text, /^consul_dns_domain_query_count\{node="dns-dev"\} [1-9]/m);
    assert.match(text, /^consul_dns_ptr_query_count\{node="dns-dev"\} [1-9]/m);
  });
});

/** A small UDP DNS server: `answer` maps a question to an rcode and A records (or undefined to stay silent). */
async function stubResolver(
  answer: (name: string) => { rcode: number; a?: string[] } | undefined,
): Promise<{ socket: Socket; address: string; questions: string[] }> {
  const socket = createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (packet, remote) => {
    const request = dnsPacket.decode(packet);
    const question = request.questions![0]!;
    questions.push(question.name);
    const result = answer(question.name);
    if (!result) return;
    const reply = dnsPacket.encode({
      id: request.id,
      type: 'response',
      flags: dnsPacket.RECURSION_AVAILABLE | result.rcode,
      questions: [question],
      answers: (result.a ?? []).map((ip) => ({ type: 'A', name: question.name, ttl: 60, data: ip })),
    });
    socket.send(reply, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, address: `127.0.0.1:${socket.address().port}`, questions };
}

describe('a configured agent: -domain, alt_domain, dns_config and recursors', { skip: digMissing }, () => {
  let configured: DnsAgent;
  let failing: Awaited<ReturnType<typeof stubResolver>>;
  let working: Awaited<ReturnType<typeof stubResolver>>;
  let dir: string;

  before(async () => {
    // The first recursor fails everything; the second answers example.test and refuses the rest.
    failing = await stubResolver(() => ({ rcode: SERVFAIL }));
    working = await stubResolver((name) =>
      name === 'example.test'
        ? { rcode: NOERROR, a: ['192.0.2.10'] }
        : name === 'silent.test'
          ? undefined
          : { rcode: 5 },
    );
    dir = mkdtempSync(join(tmpdir(), 'tribune-dns-'));
    const file = join(dir, 'dns.json');
    writeFileSync(
      file,
      JSON.stringify({
        alt_domain: 'alt.example',
        recursors: [failing.address],
        dns_config: {
          enable_truncate: true,
          only_passing: true,
          udp_answer_limit: 2,
          a_record_limit: 2,
          node_ttl: '30s',
          service_ttl: { web: '10s', 'w*': '5s', '*': '1s' },
          recursor_timeout: '500ms',
        },
      }),
    );
    configured = await startDnsAgent(
      ['-domain', 'tribune', '-config-file', file, '-recursor', working.address],
      'dns-conf',
    );
    const put = (body: object) => api(configured.agent.httpAddr, 'PUT', '/v1/catalog/register', body);
    for (const [node, status] of [
      ['w-1', 'passing'],
      ['w-2', 'warning'],
      ['w-3', 'passing'],
      ['w-4', 'passing'],
    ] as const) {
      const address = `10.5.0.${node.slice(2)}`;
      await put({
        Node: node,
        Address: address,
        Service: { ID: `web-${node}`, Service: 'web', Port: 80 },
        Check: { CheckID: `c-${node}`, Name: 'c', Status: status, ServiceID: `web-${node}` },
      });
      await put({ Node: node, Address: address, Service: { ID: `wiki-${node}`, Service: 'wiki', Port: 81 } });
      await put({ Node: node, Address: address, Service: { ID: `db-${node}`, Service: 'db', Port: 82 } });
    }
  });
  after(async () => {
    await configured.agent.stop();
    failing.socket.close();
    working.socket.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the domain and the alt domain answer alike; SOA and targets follow the zone asked', async () => {
    const { reply } = await query(configured, { name: 'web.service.tribune', type: 'SRV', tcp: true });
    // only_passing hides the warning instance.
    assert.equal(answersOf(reply, 'SRV').length, 3);
    assert.ok(
      answersOf(reply, 'SRV').every((rr) =>
        dataOf<dnsPacket.SrvData>(rr).target.endsWith('.node.dc1.tribune'),
      ),
    );
    const alt = await query(configured, { name: 'web.service.alt.example', type: 'SRV', tcp: true });
    assert.ok(
      answersOf(alt.reply, 'SRV').every((rr) =>
        dataOf<dnsPacket.SrvData>(rr).target.endsWith('.node.dc1.alt.example'),
      ),
    );
    const missing = await query(configured, { name: 'nope.service.alt.example', type: 'A' });
    assert.equal(rcode(missing.reply), NXDOMAIN);
    assert.equal(missing.reply.authorities![0]!.name, 'alt.example');
  });

  test('service_ttl by name and by the longest wildcard; node_ttl', async () => {
    const ttlOf = async (name: string) => {
      const { reply } = await query(configured, { name, type: 'A', tcp: true });
      return (reply.answers![0] as { ttl: number }).ttl;
    };
    assert.equal(await ttlOf('web.service.tribune'), 10);
    assert.equal(await ttlOf('wiki.service.tribune'), 5);
    assert.equal(await ttlOf('db.service.tribune'), 1);
    assert.equal(await ttlOf('w-1.node.tribune'), 30);
  });

  test('a_record_limit caps A answers even over TCP; TC is set on trimmed UDP with enable_truncate', async () => {
    const tcp = await query(configured, { name: 'db.service.tribune', type: 'A', tcp: true });
    assert.equal(answersOf(tcp.reply, 'A').length, 2);
    const udp = await query(configured, { name: 'db.service.tribune', type: 'SRV' });
    assert.equal(answersOf(udp.reply, 'SRV').length, 2);
    assert.equal(flagSet(udp.reply, dnsPacket.TRUNCATED_RESPONSE), true);
    // dig sees the TC bit and retries over TCP, where all four come back.
    const out = await dig(configured, 'db.service.tribune', 'SRV', '+noall', '+answer');
    assert.equal(digRecords(out).length, 4);
  });

  test('names outside the domain go to the recursors in turn; RA is set; SERVFAIL when all fail', async () => {
    const { reply } = await query(configured, { name: 'example.test', type: 'A' });
    assert.equal(rcode(reply), NOERROR);
    assert.deepEqual(
      answersOf(reply, 'A').map((rr) => dataOf(rr)),
      ['192.0.2.10'],
    );
    assert.ok(flagSet(reply, dnsPacket.RECURSION_AVAILABLE));
    assert.ok(failing.questions.includes('example.test'), 'the first recursor was asked first');
    const resolver2 = new dnsPromises.Resolver({ timeout: 3000, tries: 1 });
    resolver2.setServers([configured.server]);
    assert.deepEqual(await resolver2.resolve4('example.test'), ['192.0.2.10']);

    const refused = await query(configured, { name: 'refused.test', type: 'A' });
    assert.equal(rcode(refused.reply), SERVFAIL);
    assert.ok(flagSet(refused.reply, dnsPacket.RECURSION_AVAILABLE));
    const silent = await query(configured, { name: 'silent.test', type: 'A' });
    assert.equal(rcode(silent.reply), SERVFAIL);
    // Names in the domain say recursion is available too; the old domain is now outside it.
    const inside = await query(configured, { name: 'web.service.tribune', type: 'A' });
    assert.ok(flagSet(inside.reply, dnsPacket.RECURSION_AVAILABLE));
    const consul = await query(configured, { name: 'web.service.consul', type: 'A' });
    assert.equal(rcode(consul.reply), SERVFAIL);
  });
});

describe('prepared queries', () => {
  test('<name>.query.consul answers with the query, templates and its DNS TTL; unknown names are NXDOMAIN', async () => {
    const create = async (body: object) => {
      const res = await api(dns.agent.httpAddr, 'POST', '/v1/query', body);
      assert.equal(res.status, 200, res.text);
    };
    await create({ Name: 'web-v2', Service: { Service: 'web', Tags: ['v2'] }, DNS: { TTL: '7s' } });
    await create({
      Name: 'svc-',
      Template: { Type: 'name_prefix_match' },
      Service: { Service: '${name.suffix}' },
    });

    const { reply } = await query(dns, { name: 'web-v2.query.consul', type: 'A' });
    const records = answersOf(reply, 'A');
    assert.deepEqual(records.map((rr) => dataOf(rr)).sort(), ['10.1.0.2', '10.9.9.9']);
    assert.ok(records.every((rr) => (rr as { ttl?: number }).ttl === 7));

    const viaTemplate = (await resolver.resolve4('svc-many.query.consul')).length;
    assert.ok(viaTemplate > 0, 'the template resolved svc-many to the "many" service');
    const srv = await resolver.resolveSrv('web-v2.query.consul');
    assert.equal(srv.length, 2);

    const unknown = await query(dns, { name: 'nothing.query.consul', type: 'A' });
    assert.equal(rcode(unknown.reply), NXDOMAIN);
  });
});
