import { isIP } from 'node:net';
import type { CheckedInstance } from '../state/catalog-read.ts';
import type { CheckRow, NodeRow } from '../state/types.ts';
import { parseDuration } from '../util/duration.ts';
import { shuffled } from '../util/shuffle.ts';
import type { DnsCatalog } from './catalog.ts';
import { addressOfArpa, hexAddress, type Lookup, parseLookup, zoneOf } from './names.ts';
import type { DnsOptions } from './options.ts';
import {
  acceptFor,
  addressRecord,
  cnameRecord,
  encodableName,
  metaTxtRecords,
  nsRecord,
  pickAddress,
  ptrRecord,
  type RR,
  soaRecord,
  srvRecord,
} from './records.ts';
import { QTYPE, type Question, RCODE } from './wire.ts';

// Answers for names in the domain, as Consul's DNS server makes them: services (healthy instances only,
// shuffled, SRV only when asked), nodes, .addr. names, the zone's SOA and NS, and reverse lookups of catalog
// addresses. Unknown names get NXDOMAIN and known names without records of the type NODATA, both with the
// zone's SOA in the authority section.

export interface Reply {
  rcode: number;
  answers: RR[];
  authorities: RR[];
  additionals: RR[];
}

/** Looks up the A records of a name outside the domain through the recursors (for CNAME targets). */
export type ExternalResolver = (name: string) => Promise<RR[]>;

/** How deep CNAMEs into the domain are followed (Consul's maxRecursionLevelDefault). */
const MAX_RECURSION = 3;
/** Records a CNAME target may add to a reply for a client without EDNS (Consul's maxRecurseRecords). */
const MAX_RECURSE_RECORDS = 5;

type Outcome = 'answered' | 'nxdomain' | 'nodata';

interface Context {
  question: Question;
  /** The zone the name was asked in (domain or alt domain), which generated names end in. */
  zone: string;
  edns: boolean;
  reply: Reply;
}

export class Responder {
  constructor(
    private readonly options: DnsOptions,
    private readonly catalog: DnsCatalog,
    private readonly external: ExternalResolver,
  ) {}

  /** The reply for a question in the domain or the alt domain; rejects when the catalog cannot be read. */
  async answer(question: Question, zone: string, labels: string[], edns: boolean): Promise<Reply> {
    const reply: Reply = { rcode: RCODE.NOERROR, answers: [], authorities: [], additionals: [] };
    const ctx: Context = { question, zone, edns, reply };
    switch (question.type) {
      case QTYPE.SOA: {
        const { ns, glue } = await this.nameservers(ctx);
        reply.answers.push(this.soa(zone));
        reply.authorities.push(...ns);
        reply.additionals.push(...glue);
        return reply;
      }
      case QTYPE.NS: {
        const { ns, glue } = await this.nameservers(ctx);
        reply.answers.push(...ns);
        reply.additionals.push(...glue);
        return reply;
      }
      case QTYPE.AXFR:
        reply.rcode = RCODE.NOTIMP;
        return reply;
    }
    const outcome = await this.dispatch(ctx, labels, question.type, question.name, MAX_RECURSION);
    if (outcome === 'nxdomain') reply.rcode = RCODE.NXDOMAIN;
    if (outcome !== 'answered') reply.authorities.push(this.soa(zone));
    return reply;
  }

  /**
   * A reverse lookup: the node with that address, else a service instance registered with it (PTR records
   * whatever the question's type, as Consul answers). Undefined when the catalog has neither.
   */
  async answerPtr(question: Question): Promise<Reply | undefined> {
    const ip = addressOfArpa(question.labels);
    if (!ip) return undefined;
    await this.catalog.ready();
    const domain = this.options.domain;
    const node = this.catalog.nodeWithAddress(ip);
    let target: string | undefined;
    if (node) target = `${node.Node}.node.${node.Datacenter}.${domain}`;
    else {
      const found = this.catalog.serviceWithAddress(ip);
      if (found) target = `${found.service.Service}.service.${found.node.Datacenter}.${domain}`;
    }
    if (!target || !encodableName(target)) return undefined;
    const reply: Reply = { rcode: RCODE.NOERROR, answers: [], authorities: [], additionals: [] };
    if (question.type === QTYPE.SOA) reply.answers.push(this.soa(domain));
    reply.answers.push(ptrRecord(question.name, 0, target));
    return reply;
  }

  soa(zone: string): RR {
    return soaRecord(zone, this.options.config.soa);
  }

  private async dispatch(
    ctx: Context,
    labels: string[],
    qtype: number,
    qname: string,
    level: number,
  ): Promise<Outcome> {
    const lookup = parseLookup(labels, qtype);
    switch (lookup.kind) {
      case 'service':
        return this.serviceLookup(ctx, lookup, qtype, qname, level);
      case 'node':
        return this.nodeLookup(ctx, lookup, qtype, qname, level);
      case 'addr':
        return this.addrLookup(ctx, lookup, qtype, qname);
      case 'query':
        return this.queryLookup(ctx, lookup, qtype, qname, level);
      default:
        return 'nxdomain';
    }
  }

  /** `<name>.query[.<dc>]`: a prepared query by ID or name (templates included), its DNS TTL when it sets one. */
  private async queryLookup(
    ctx: Context,
    lookup: Extract<Lookup, { kind: 'query' }>,
    qtype: number,
    qname: string,
    level: number,
  ): Promise<Outcome> {
    if (this.otherDatacenter(lookup.dc)) return 'nxdomain';
    await this.catalog.ready();
    const result = this.catalog.preparedQuery(lookup.query);
    if (!result || result.instances.length === 0) return 'nxdomain';
    // The query's own TTL wins; without one, service_ttl of the service it resolved to applies.
    const ttl = result.ttl
      ? Math.round(parseDuration(result.ttl) / 1e9)
      : this.options.serviceTtl(result.service);
    const dc = lookup.dc ?? this.options.datacenter;
    return this.answerInstances(ctx, result.instances, qtype, qname, ttl, dc, level);
  }

  /** A datacenter named in the query that is not this one: there is no path to it from here. */
  private otherDatacenter(dc: string | undefined): boolean {
    return dc !== undefined && dc !== this.options.datacenter;
  }

  private async serviceLookup(
    ctx: Context,
    lookup: Extract<Lookup, { kind: 'service' }>,
    qtype: number,
    qname: string,
    level: number,
  ): Promise<Outcome> {
    if (this.otherDatacenter(lookup.dc)) return 'nxdomain';
    await this.catalog.ready();
    const { onlyPassing } = this.options.config;
    const instances = shuffled(
      this.catalog.healthyInstances(lookup.service, lookup.tag, lookup.connect, onlyPassing),
    );
    if (instances.length === 0) return 'nxdomain';
    const ttl = this.options.serviceTtl(lookup.service);
    const dc = lookup.dc ?? this.options.datacenter;
    return this.answerInstances(ctx, instances, qtype, qname, ttl, dc, level);
  }

  /** SRV records (with their targets' addresses) or address records for instances; NODATA when none fit. */
  private async answerInstances(
    ctx: Context,
    instances: CheckedInstance[],
    qtype: number,
    qname: string,
    ttl: number,
    dc: string,
    level: number,
  ): Promise<Outcome> {
    const before = ctx.reply.answers.length;
    if (qtype === QTYPE.SRV) await this.addSrvRecords(ctx, instances, qname, ttl, dc, level);
    else await this.addInstanceRecords(ctx, instances, qtype, qname, ttl, dc, level);
    return ctx.reply.answers.length > before ? 'answered' : 'nodata';
  }

  private async addInstanceRecords(
    ctx: Context,
    instances: CheckedInstance[],
    qtype: number,
    qname: string,
    ttl: number,
    dc: string,
    level: number,
  ): Promise<void> {
    const limit = this.options.config.aRecordLimit;
    const seen = new Set<string>();
    let firstCname: RR[] | undefined;
    let count = 0;
    for (const instance of instances) {
      const { answers } = await this.instanceRecords(ctx, instance, qtype, qname, ttl, dc, level);
      const first = answers[0];
      if (!first) continue;
      // A node may run the same service twice (other ports): one address record each.
      const key = recordKey(first);
      if (seen.has(key)) continue;
      seen.add(key);
      if (first.type === 'CNAME') {
        // CNAMEs only answer when no instance has an address record.
        firstCname ??= answers;
        continue;
      }
      ctx.reply.answers.push(...answers);
      count++;
      if (count === limit) return;
    }
    if (ctx.reply.answers.length === 0 && firstCname) ctx.reply.answers.push(...firstCname);
  }

  private async addSrvRecords(
    ctx: Context,
    instances: CheckedInstance[],
    qname: string,
    ttl: number,
    dc: string,
    level: number,
  ): Promise<void> {
    const seen = new Set<string>();
    const any = acceptFor(QTYPE.ANY);
    for (const instance of instances) {
      const { node, service } = instance;
      const address = pickAddress(
        any,
        service.Address,
        service.TaggedAddresses.lan_ipv4?.Address,
        service.TaggedAddresses.lan_ipv6?.Address,
      );
      const tuple = `${node.Node}:${address}:${service.Port}`;
      if (seen.has(tuple)) continue;
      seen.add(tuple);
      const { answers, extra } = await this.instanceRecords(ctx, instance, QTYPE.SRV, qname, ttl, dc, level);
      ctx.reply.answers.push(...answers);
      ctx.reply.additionals.push(...extra);
      if (this.options.config.nodeMetaTxt && answers.length > 0) {
        const nodeName = this.nodeFqdn(node.Node, dc, ctx.zone);
        if (encodableName(nodeName)) ctx.reply.additionals.push(...metaTxtRecords(nodeName, node.Meta, ttl));
      }
    }
  }

  /** The records for one instance (Consul's makeNodeServiceRecords): by service address, else node address. */
  private async instanceRecords(
    ctx: Context,
    instance: CheckedInstance,
    qtype: number,
    qname: string,
    ttl: number,
    dc: string,
    level: number,
  ): Promise<{ answers: RR[]; extra: RR[] }> {
    const { node, service } = instance;
    const accept = acceptFor(qtype);
    const serviceAddr = pickAddress(
      accept,
      service.Address,
      service.TaggedAddresses.lan_ipv4?.Address,
      service.TaggedAddresses.lan_ipv6?.Address,
    );
    const nodeAddr = pickAddress(
      accept,
      node.Address,
      node.TaggedAddresses.lan_ipv4,
      node.TaggedAddresses.lan_ipv6,
    );
    const none = { answers: [], extra: [] };
    if (!serviceAddr && !nodeAddr) return none;
    const port = service.Port;
    const weight = srvWeight(instance);
    const nodeIsIp = isIP(nodeAddr) !== 0;

    // An address record for `ip`; for SRV, the SRV record pointing at `target` with the address record in extra.
    const byAddress = (ip: string, target: string) => {
      if (qtype !== QTYPE.SRV) {
        const record = addressRecord(qtype, qname, ip, ttl);
        return record ? { answers: [record], extra: [] } : none;
      }
      const record = addressRecord(qtype, target, ip, ttl);
      if (!record || !encodableName(target)) return none;
      return { answers: [srvRecord(qname, ttl, weight, port, target)], extra: [record] };
    };
    const byNode = (ip: string) => byAddress(ip, this.nodeFqdn(node.Node, dc, ctx.zone));
    const byIp = (ip: string) => byAddress(ip, `${hexAddress(ip)}.addr.${dc}.${ctx.zone}`);

    if (!serviceAddr && nodeIsIp) return node.Address !== nodeAddr ? byIp(nodeAddr) : byNode(nodeAddr);
    if (!serviceAddr) return this.byHostname(ctx, nodeAddr, qtype, qname, ttl, weight, port, level);
    if (isIP(serviceAddr)) return byIp(serviceAddr);
    // A service whose address names the service itself is reached at its node.
    if (sameName(serviceAddr, qname) && nodeIsIp) return byNode(nodeAddr);
    return this.byHostname(ctx, serviceAddr, qtype, qname, ttl, weight, port, level);
  }

  /** An instance at a hostname: SRV to the hostname, or a CNAME to it; with its addresses when they resolve. */
  private async byHostname(
    ctx: Context,
    hostname: string,
    qtype: number,
    qname: string,
    ttl: number,
    weight: number,
    port: number,
    level: number,
  ): Promise<{ answers: RR[]; extra: RR[] }> {
    const target = hostname.replace(/\.$/, '');
    if (!encodableName(target)) return { answers: [], extra: [] };
    const more: RR[] = [];
    for (const record of await this.resolveCname(ctx, target, level)) {
      if (record.type !== 'CNAME' && record.type !== 'A' && record.type !== 'AAAA') continue;
      more.push({ ...record, ttl } as RR);
      if (more.length === MAX_RECURSE_RECORDS && !ctx.edns) break;
    }
    if (qtype === QTYPE.SRV) return { answers: [srvRecord(qname, ttl, weight, port, target)], extra: more };
    return { answers: [cnameRecord(qname, ttl, target), ...more], extra: [] };
  }

  /** What a CNAME target resolves to: inside the domain from the catalog, elsewhere through the recursors. */
  private async resolveCname(ctx: Context, name: string, level: number): Promise<RR[]> {
    const lower = name.toLowerCase();
    const zone = zoneOf(lower.split('.'), this.options.domain, this.options.altDomain);
    if (zone.kind === 'domain') {
      if (level < 1) return [];
      const inner: Context = {
        ...ctx,
        zone: zone.zone,
        reply: { rcode: RCODE.NOERROR, answers: [], authorities: [], additionals: [] },
      };
      await this.dispatch(inner, zone.labels, QTYPE.ANY, name, level - 1);
      return inner.reply.answers;
    }
    if (this.options.recursors.length === 0) return [];
    return this.external(name);
  }

  private async nodeLookup(
    ctx: Context,
    lookup: Extract<Lookup, { kind: 'node' }>,
    qtype: number,
    qname: string,
    level: number,
  ): Promise<Outcome> {
    if (this.otherDatacenter(lookup.dc)) return 'nxdomain';
    await this.catalog.ready();
    const node = this.catalog.node(lookup.node);
    if (!node) return 'nxdomain';
    // Consul answers other types with an empty NOERROR; the name exists, so it is NODATA with the SOA here.
    if (qtype !== QTYPE.ANY && qtype !== QTYPE.A && qtype !== QTYPE.AAAA && qtype !== QTYPE.TXT)
      return 'nodata';
    const ttl = this.options.nodeTtl;
    const before = ctx.reply.answers.length;
    if (qtype !== QTYPE.TXT)
      ctx.reply.answers.push(...(await this.nodeRecords(ctx, node, qtype, qname, ttl, level)));
    if (this.options.config.nodeMetaTxt || qtype === QTYPE.TXT || qtype === QTYPE.ANY) {
      const txt = metaTxtRecords(qname, node.Meta, ttl);
      if (qtype === QTYPE.TXT || qtype === QTYPE.ANY) ctx.reply.answers.push(...txt);
      else ctx.reply.additionals.push(...txt);
    }
    return ctx.reply.answers.length > before ? 'answered' : 'nodata';
  }

  /** A node's address record, or a CNAME to its hostname and what that resolves to (Consul's makeRecordFromNode). */
  private async nodeRecords(
    ctx: Context,
    node: NodeRow,
    qtype: number,
    qname: string,
    ttl: number,
    level: number,
  ): Promise<RR[]> {
    const address = pickAddress(
      acceptFor(qtype),
      node.Address,
      node.TaggedAddresses.lan_ipv4,
      node.TaggedAddresses.lan_ipv6,
    );
    if (isIP(address) === 0) {
      const target = address.replace(/\.$/, '');
      if (!target || !encodableName(target)) return [];
      return [cnameRecord(qname, ttl, target), ...(await this.resolveCname(ctx, target, level))];
    }
    const record = addressRecord(qtype, qname, address, ttl);
    return record ? [record] : [];
  }

  private addrLookup(
    ctx: Context,
    lookup: Extract<Lookup, { kind: 'addr' }>,
    qtype: number,
    qname: string,
  ): Outcome {
    const ttl = this.options.nodeTtl;
    const record: RR =
      lookup.family === 4
        ? { type: 'A', name: qname, ttl, class: 'IN', data: lookup.ip }
        : { type: 'AAAA', name: qname, ttl, class: 'IN', data: lookup.ip };
    const wanted = lookup.family === 4 ? QTYPE.A : QTYPE.AAAA;
    if (qtype === wanted || qtype === QTYPE.ANY) {
      ctx.reply.answers.push(record);
      return 'answered';
    }
    // Another type: the address goes in the additional section, as Consul puts it.
    ctx.reply.additionals.push(record);
    return 'nodata';
  }

  /** Up to three servers (the healthy instances of "consul"), shuffled, as NS records with their addresses. */
  private async nameservers(ctx: Context): Promise<{ ns: RR[]; glue: RR[] }> {
    const ns: RR[] = [];
    const glue: RR[] = [];
    let servers: CheckedInstance[];
    try {
      await this.catalog.ready();
      servers = shuffled(
        this.catalog.healthyInstances('consul', undefined, false, this.options.config.onlyPassing),
      );
    } catch {
      // Consul logs and answers without nameservers.
      return { ns, glue };
    }
    const ttl = this.options.nodeTtl;
    for (const { node } of servers) {
      // Consul skips servers whose node names are not valid DNS labels.
      if (/[^A-Za-z0-9-]/.test(node.Node)) continue;
      const fqdn = this.nodeFqdn(node.Node, node.Datacenter, ctx.zone).toLowerCase();
      ns.push(nsRecord(ctx.zone, ttl, fqdn));
      glue.push(...(await this.nodeRecords(ctx, node, QTYPE.ANY, fqdn, ttl, MAX_RECURSION)));
      if (ns.length >= 3) break;
    }
    return { ns, glue };
  }

  private nodeFqdn(node: string, dc: string, zone: string): string {
    return `${node}.node.${dc}.${zone}`;
  }
}

/** The SRV weight: the service's Weights for its health (passing or warning), 1 for anything else. */
function srvWeight({ service, checks }: CheckedInstance): number {
  const relevant = checks.filter((c) => c.ServiceName === service.Service || c.ServiceName === '');
  switch (aggregatedStatus(relevant)) {
    case 'passing':
      return service.Weights.Passing;
    case 'warning':
      return service.Weights.Warning;
    case 'maintenance':
    case 'critical':
      return 0;
    default:
      return 1;
  }
}

/** Consul's HealthChecks.AggregatedStatus. */
function aggregatedStatus(checks: CheckRow[]): string {
  let warning = false;
  let critical = false;
  let maintenance = false;
  for (const check of checks) {
    if (check.CheckID === '_node_maintenance' || check.CheckID.startsWith('_service_maintenance:')) {
      maintenance = true;
      continue;
    }
    if (check.Status === 'warning') warning = true;
    else if (check.Status === 'critical') critical = true;
    else if (check.Status !== 'passing') return '';
  }
  if (maintenance) return 'maintenance';
  if (critical) return 'critical';
  if (warning) return 'warning';
  return 'passing';
}

function recordKey(record: RR): string {
  return `${record.name.toLowerCase()}|${record.type}|${JSON.stringify('data' in record ? record.data : '')}`;
}

const sameName = (a: string, b: string): boolean =>
  a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();

/** Fisher–Yates, in place. */
