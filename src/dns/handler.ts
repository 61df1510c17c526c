import type { Logger } from 'pino';
import { type Reply, Responder } from './answer.ts';
import type { DnsCatalog } from './catalog.ts';
import { encodeReply } from './message.ts';
import type { DnsMetrics } from './metrics.ts';
import { zoneOf } from './names.ts';
import type { DnsOptions } from './options.ts';
import type { Recursors } from './recursor.ts';
import { trimTcp, trimUdp } from './truncate.ts';
import { bareReply, parseRequest, QCLASS, RCODE, type Request, typeName } from './wire.ts';

// One DNS message in, at most one out, whatever the transport. The domain (and alt domain) are answered from
// the catalog, reverse lookups ("arpa") from catalog addresses, everything else goes to the recursors when
// there are any and is refused otherwise (miekg/dns's answer for a name no handler takes). Nothing thrown
// escapes: a failure becomes SERVFAIL.

export type Transport = 'udp' | 'tcp';

/** The most a reply can be: a TCP message's 16-bit length (UDP's limit is lower and enforced by trimming). */
const MAX_MESSAGE = 65535;

export class DnsHandler {
  private readonly responder: Responder;

  constructor(
    private readonly options: DnsOptions,
    catalog: DnsCatalog,
    private readonly recursors: Recursors,
    private readonly log: Logger,
    private readonly metrics?: DnsMetrics,
  ) {
    this.responder = new Responder(options, catalog, (name) => recursors.lookupA(name));
  }

  /** The reply to send for `packet`, or undefined to send nothing. */
  async handle(packet: Buffer, transport: Transport): Promise<Buffer | undefined> {
    try {
      return await this.handleParsed(packet, transport);
    } catch (err) {
      this.log.error({ err }, 'DNS query failed');
      return packet.length >= 12 ? bareReply(packet, RCODE.SERVFAIL) : undefined;
    }
  }

  private async handleParsed(packet: Buffer, transport: Transport): Promise<Buffer | undefined> {
    const parsed = parseRequest(packet);
    if (!parsed.ok) {
      if (parsed.drop) return undefined;
      this.log.debug({ reason: parsed.reason, rcode: parsed.rcode }, 'rejected a DNS message');
      return bareReply(packet, parsed.rcode);
    }
    const { request } = parsed;
    const { question } = request;
    // Only the Internet class is served (ANY taken as IN); CHAOS, Hesiod and the rest are refused.
    if (question.class !== QCLASS.IN && question.class !== QCLASS.ANY) {
      return bareReply(packet, RCODE.REFUSED, request.questionBytes);
    }
    const zone = zoneOf(question.labels, this.options.domain, this.options.altDomain);
    switch (zone.kind) {
      case 'domain': {
        const started = performance.now();
        let reply: Reply;
        try {
          reply = await this.responder.answer(question, zone.zone, zone.labels, request.edns !== undefined);
        } catch (err) {
          this.log.warn({ err, name: question.name }, 'DNS lookup failed');
          reply = { rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [] };
        }
        const bytes = this.finish(request, reply, transport);
        this.metrics?.observeDomain(typeName(question.type), performance.now() - started);
        return bytes;
      }
      case 'arpa': {
        const started = performance.now();
        let reply: Reply | undefined;
        try {
          reply = await this.responder.answerPtr(question);
        } catch (err) {
          this.log.warn({ err, name: question.name }, 'DNS reverse lookup failed');
        }
        let bytes: Buffer | undefined;
        if (reply) bytes = this.finish(request, reply, transport);
        else if (this.recursors.enabled) bytes = await this.recurse(request);
        else {
          const soa = this.responder.soa(this.options.domain);
          bytes = this.finish(
            request,
            { rcode: RCODE.NXDOMAIN, answers: [], authorities: [soa], additionals: [] },
            transport,
          );
        }
        this.metrics?.observePtr(performance.now() - started);
        return bytes;
      }
      case 'outside':
        if (this.recursors.enabled) return this.recurse(request);
        return bareReply(packet, RCODE.REFUSED, request.questionBytes);
    }
  }

  /** Forwards the query as it came; SERVFAIL (with RA, and the client's EDNS echoed) when no recursor answers. */
  private async recurse(request: Request): Promise<Buffer> {
    const reply = await this.recursors.forward(request.packet);
    if (reply) return reply;
    this.log.warn({ name: request.question.name }, 'all recursors failed for a DNS question');
    return encodeReply(
      request,
      { rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [] },
      { authoritative: false, recursionAvailable: true, truncated: false },
    );
  }

  /** Trims the reply for its transport and encodes it; SERVFAIL if it cannot be put on the wire. */
  private finish(request: Request, reply: Reply, transport: Transport): Buffer {
    const trimmed =
      transport === 'udp'
        ? trimUdp(request, reply, this.options.config.udpAnswerLimit)
        : trimTcp(request, reply);
    const flags = {
      authoritative: true,
      recursionAvailable: this.recursors.enabled,
      truncated: trimmed && this.options.config.enableTruncate,
    };
    try {
      const bytes = encodeReply(request, reply, flags);
      if (bytes.length <= MAX_MESSAGE) return bytes;
      this.log.warn({ name: request.question.name, bytes: bytes.length }, 'DNS reply too large to send');
    } catch (err) {
      this.log.warn({ err, name: request.question.name }, 'DNS reply could not be encoded');
    }
    return bareReply(request.packet, RCODE.SERVFAIL, request.questionBytes, flags.recursionAvailable);
  }
}
