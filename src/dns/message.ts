import dnsPacket from 'dns-packet';
import type { Reply } from './answer.ts';
import type { RR } from './records.ts';
import type { Request } from './wire.ts';

// A reply on the wire: the header (ID, opcode, RD and CD as asked), the question exactly as it came, the
// sections, and an OPT record echoing the client's EDNS (its UDP size, and its client subnet option with a
// global scope, as Consul echoes them). dns-packet writes names uncompressed, so the sizes the truncation rules
// measure are the sizes sent.

const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const CD = 0x0010;
const OPCODE_MASK = 0x7800;

export interface ReplyFlags {
  authoritative: boolean;
  recursionAvailable: boolean;
  truncated: boolean;
}

/** The packet dns-packet encodes: everything but the question, which is spliced in verbatim. */
function packetOf(request: Request, reply: Reply, flags: ReplyFlags): dnsPacket.Packet {
  const requestFlags = request.flags;
  const headerFlags =
    (requestFlags & (OPCODE_MASK | RD | CD)) |
    (flags.authoritative ? AA : 0) |
    (flags.truncated ? TC : 0) |
    (flags.recursionAvailable ? RA : 0) |
    (reply.rcode & 0xf);
  const additionals: RR[] = [...reply.additionals];
  const opt = optRecord(request);
  if (opt) additionals.push(opt);
  return {
    id: request.id,
    type: 'response',
    flags: headerFlags,
    questions: [],
    answers: reply.answers,
    authorities: reply.authorities,
    additionals,
  };
}

function optRecord(request: Request): dnsPacket.OptAnswer | undefined {
  const edns = request.edns;
  if (!edns) return undefined;
  const options: dnsPacket.PacketOpt[] = [];
  if (edns.clientSubnet && edns.clientSubnet.length >= 4) {
    const data = Buffer.from(edns.clientSubnet);
    // SCOPE PREFIX-LENGTH 0: the answer holds for every client (Consul's global answers).
    data[3] = 0;
    options.push({ code: 8, data } as dnsPacket.PacketOpt);
  }
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize: edns.udpSize,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    options,
  } as dnsPacket.OptAnswer;
}

/** Bytes the reply would take on the wire. */
export function replyLength(request: Request, reply: Reply): number {
  const flags = { authoritative: true, recursionAvailable: false, truncated: false };
  return dnsPacket.encodingLength(packetOf(request, reply, flags)) + request.questionBytes.length;
}

export function encodeReply(request: Request, reply: Reply, flags: ReplyFlags): Buffer {
  const body = dnsPacket.encode(packetOf(request, reply, flags));
  const out = Buffer.allocUnsafe(body.length + request.questionBytes.length);
  body.copy(out, 0, 0, 12);
  out.writeUInt16BE(1, 4);
  request.questionBytes.copy(out, 12);
  body.copy(out, 12 + request.questionBytes.length, 12);
  return out;
}
