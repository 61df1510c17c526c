import dnsPacket from 'dns-packet';

// The request side of the wire: which packets are answered at all, and what a query says. The checks follow
// miekg/dns's default accept rules (what Consul's server runs behind): responses are never answered (no
// ping-pong), opcodes other than QUERY get NOTIMP, and a query must carry exactly one question, no answer or
// authority records and at most two additional records, else FORMERR. Everything is validated before it is
// used: the question name is read here label by label, and dns-packet decodes the rest.

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export const QTYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const QCLASS = { IN: 1, ANY: 255 } as const;

const HEADER_BYTES = 12;
const QR = 0x8000;
const OPCODE_QUERY = 0;
/** RFC 1035 §2.3.4: a name is at most 255 octets on the wire, a label at most 63. */
const MAX_NAME_BYTES = 255;
const MAX_LABEL_BYTES = 63;
/** EDNS(0) option code of the client subnet option (RFC 7871). */
const EDNS_CLIENT_SUBNET = 8;

export interface Question {
  /** The name as asked, without the trailing dot ('' for the root); letters keep their case. */
  name: string;
  /** The name in lower case, for matching. */
  lower: string;
  /** The labels of `lower`. */
  labels: string[];
  type: number;
  class: number;
}

export interface Edns {
  /** The UDP payload size the client can take. */
  udpSize: number;
  /** The client subnet option's data, when the client sent one (echoed back with a global scope). */
  clientSubnet: Buffer | undefined;
}

export interface Request {
  id: number;
  /** The header's second 16 bits as sent (opcode, RD, CD...). */
  flags: number;
  question: Question;
  /** The question section's bytes, echoed verbatim in the reply. */
  questionBytes: Buffer;
  edns: Edns | undefined;
  /** The whole packet, as forwarded to a recursor. */
  packet: Buffer;
}

/** What to do with a packet that is not a query to answer: nothing, or a bare reply with this code. */
export type Rejection = { drop: true } | { drop: false; rcode: number; reason: string };

export type Parsed = { ok: true; request: Request } | ({ ok: false } & Rejection);

const drop = (): Parsed => ({ ok: false, drop: true });
const reject = (rcode: number, reason: string): Parsed => ({ ok: false, drop: false, rcode, reason });

export function parseRequest(packet: Buffer): Parsed {
  // Without a whole header there is no ID to answer to.
  if (packet.length < HEADER_BYTES) return drop();
  const flags = packet.readUInt16BE(2);
  if (flags & QR) return drop();
  const opcode = (flags >> 11) & 0xf;
  // miekg/dns lets NOTIFY through to the handler; there are no secondaries here to notify, so it is NOTIMP too.
  if (opcode !== OPCODE_QUERY) return reject(RCODE.NOTIMP, 'opcode');
  const qdcount = packet.readUInt16BE(4);
  const ancount = packet.readUInt16BE(6);
  const nscount = packet.readUInt16BE(8);
  const arcount = packet.readUInt16BE(10);
  if (qdcount !== 1) return reject(RCODE.FORMERR, 'question count');
  if (ancount > 1 || nscount > 0 || arcount > 2) return reject(RCODE.FORMERR, 'record counts');

  const read = readQuestion(packet);
  if (typeof read === 'string') return reject(RCODE.FORMERR, read);

  let decoded: dnsPacket.Packet;
  try {
    decoded = dnsPacket.decode(packet);
  } catch {
    return reject(RCODE.FORMERR, 'malformed records');
  }
  const edns = readEdns(decoded);
  if (typeof edns === 'string') return reject(RCODE.FORMERR, edns);

  return {
    ok: true,
    request: {
      id: packet.readUInt16BE(0),
      flags,
      question: read.question,
      questionBytes: packet.subarray(HEADER_BYTES, read.end),
      edns,
      packet,
    },
  };
}

/**
 * Reads the question at offset 12. Its name must be plain labels of printable ASCII without dots: no
 * compression pointer (nothing precedes it but the header), no bytes a reply could not carry back as they were.
 */
function readQuestion(packet: Buffer): { question: Question; end: number } | string {
  const labels: string[] = [];
  let offset = HEADER_BYTES;
  let nameBytes = 0;
  for (;;) {
    if (offset >= packet.length) return 'truncated name';
    const length = packet[offset]!;
    nameBytes += length + 1;
    if (nameBytes > MAX_NAME_BYTES) return 'name too long';
    if (length === 0) {
      offset += 1;
      break;
    }
    if (length > MAX_LABEL_BYTES) return 'compression or bad label in question';
    const end = offset + 1 + length;
    if (end > packet.length) return 'truncated label';
    for (let i = offset + 1; i < end; i++) {
      const byte = packet[i]!;
      if (byte < 0x21 || byte > 0x7e || byte === 0x2e) return 'label bytes';
    }
    labels.push(packet.toString('latin1', offset + 1, end));
    offset = end;
  }
  if (offset + 4 > packet.length) return 'truncated question';
  const name = labels.join('.');
  const lower = name.toLowerCase();
  return {
    question: {
      name,
      lower,
      labels: lower === '' ? [] : lower.split('.'),
      type: packet.readUInt16BE(offset),
      class: packet.readUInt16BE(offset + 2),
    },
    end: offset + 4,
  };
}

function readEdns(decoded: dnsPacket.Packet): Edns | undefined | string {
  const opts = (decoded.additionals ?? []).filter((rr) => rr.type === 'OPT');
  if (opts.length === 0) return undefined;
  if (opts.length > 1) return 'more than one OPT record';
  const opt = opts[0] as dnsPacket.OptAnswer;
  if (opt.name !== '.') return 'OPT record not at the root';
  const subnet = opt.options.find((option) => option.code === EDNS_CLIENT_SUBNET);
  return {
    udpSize: opt.udpPayloadSize,
    clientSubnet: subnet?.data ? Buffer.from(subnet.data) : undefined,
  };
}

/**
 * A reply of header and question only, for refusals and failures: the ID, opcode, RD and CD as sent, the question
 * echoed when there is one to echo (FORMERR and NOTIMP replies carry none, as miekg/dns sends them).
 */
export function bareReply(packet: Buffer, rcode: number, questionBytes?: Buffer, ra = false): Buffer {
  const reply = Buffer.alloc(HEADER_BYTES + (questionBytes?.length ?? 0));
  packet.copy(reply, 0, 0, 2);
  const flags = packet.readUInt16BE(2);
  // QR, the opcode, RD and CD from the request, RA when recursion is on offer, and the code.
  reply.writeUInt16BE(QR | (flags & 0x7900) | (flags & 0x0010) | (ra ? 0x0080 : 0) | (rcode & 0xf), 2);
  if (questionBytes) {
    reply.writeUInt16BE(1, 4);
    questionBytes.copy(reply, HEADER_BYTES);
  }
  return reply;
}

const TYPE_NAMES = new Map<number, string>(Object.entries(QTYPE).map(([name, code]) => [code, name]));

/** A question type's mnemonic, or TYPE<n> for the ones without (as miekg/dns prints them). */
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}
