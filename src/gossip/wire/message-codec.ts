import {
  type AckResp,
  type Alive,
  type Dead,
  type ErrResp,
  type GossipMessage,
  type IndirectPing,
  MessageType,
  type NackResp,
  NodeStateCode,
  type Ping,
  type PushNodeState,
  type PushPullHeader,
  type Suspect,
  type Vsn,
} from '../messages.ts';
import { GossipCodecError } from './errors.ts';
import {
  bool,
  bytes,
  int,
  omitEmpty,
  StructReader,
  str,
  uint8,
  uint16,
  uint32,
  writeStruct,
} from './fields.ts';
import { decodeValue, GoMsgpackWriter } from './go-msgpack.ts';
import { META_MAX_BYTES } from './limits.ts';

// memberlist's messages: `[type byte][msgpack struct]`, or `[8][delegate bytes]` for a user message. The
// struct shapes are memberlist 0.2.x's (net.go); the SWIM core sees them as the plain data of messages.ts.

/** The longest error text accepted in an errResp. */
const MAX_ERROR_BYTES = 4096;

const TYPE_NAMES = new Map<number, GossipMessage['type']>([
  [MessageType.ping, 'ping'],
  [MessageType.indirectPing, 'indirectPing'],
  [MessageType.ackResp, 'ackResp'],
  [MessageType.nackResp, 'nackResp'],
  [MessageType.suspect, 'suspect'],
  [MessageType.alive, 'alive'],
  [MessageType.dead, 'dead'],
  [MessageType.err, 'err'],
  [MessageType.user, 'user'],
]);

// ---- field shapes shared by several structs

/** An IP address field: 4 bytes (IPv4) or 16 (IPv6); `optional` also allows none. */
function readIp(r: StructReader, field: string, optional = false): Uint8Array {
  const ip = r.bytes(field, 16);
  if (ip.length === 4 || ip.length === 16 || (optional && ip.length === 0)) return ip;
  throw new GossipCodecError('malformed', `${r.struct}.${field} is ${ip.length} bytes, not an IP address`);
}

function checkIp(ip: Uint8Array, what: string, optional = false): Uint8Array {
  if (ip.length === 4 || ip.length === 16 || (optional && ip.length === 0)) return ip;
  throw new GossipCodecError('encode', `${what} is ${ip.length} bytes, not an IP address`);
}

/** Vsn: exactly six bytes. serf 0.9.4 indexes all six of any non-empty Vsn, so fewer would crash it. */
function readVsn(r: StructReader, field: string): Vsn {
  const raw = r.bytes(field, 6);
  if (raw.length !== 6) {
    throw new GossipCodecError('malformed', `${r.struct}.${field} is ${raw.length} bytes, not 6`);
  }
  return [raw[0]!, raw[1]!, raw[2]!, raw[3]!, raw[4]!, raw[5]!];
}

function vsnBytes(vsn: Vsn, what: string): Uint8Array {
  if (vsn.length !== 6 || vsn.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) {
    throw new GossipCodecError('encode', `${what} must be six bytes`);
  }
  return Uint8Array.from(vsn);
}

function checkMeta(meta: Uint8Array, what: string): Uint8Array {
  if (meta.length > META_MAX_BYTES) {
    throw new GossipCodecError(
      'encode',
      `${what} is ${meta.length} bytes, over memberlist's ${META_MAX_BYTES}`,
    );
  }
  return meta;
}

// ---- one encoder and one decoder per struct

export function writePing(w: GoMsgpackWriter, p: Ping): void {
  writeStruct(w, 'ping', {
    SeqNo: uint32(p.SeqNo),
    Node: str(p.Node),
    // omitempty in memberlist: old peers never see fields they do not know.
    SourceAddr: omitEmpty(checkIp(p.SourceAddr, 'ping.SourceAddr', true), bytes),
    SourcePort: omitEmpty(p.SourcePort, uint16),
    SourceNode: omitEmpty(p.SourceNode, str),
  });
}

export function readPing(value: unknown): Ping {
  const r = new StructReader('ping', value);
  return {
    SeqNo: r.u32('SeqNo'),
    Node: r.string('Node'),
    SourceAddr: readIp(r, 'SourceAddr', true),
    SourcePort: r.u16('SourcePort'),
    SourceNode: r.string('SourceNode'),
  };
}

export function writeIndirectPing(w: GoMsgpackWriter, p: IndirectPing): void {
  writeStruct(w, 'indirectPingReq', {
    SeqNo: uint32(p.SeqNo),
    Target: bytes(checkIp(p.Target, 'indirectPingReq.Target')),
    Port: uint16(p.Port),
    Node: str(p.Node),
    Nack: bool(p.Nack),
    SourceAddr: omitEmpty(checkIp(p.SourceAddr, 'indirectPingReq.SourceAddr', true), bytes),
    SourcePort: omitEmpty(p.SourcePort, uint16),
    SourceNode: omitEmpty(p.SourceNode, str),
  });
}

export function readIndirectPing(value: unknown): IndirectPing {
  const r = new StructReader('indirectPingReq', value);
  return {
    SeqNo: r.u32('SeqNo'),
    Target: readIp(r, 'Target'),
    Port: r.u16('Port'),
    Node: r.string('Node'),
    Nack: r.bool('Nack'),
    SourceAddr: readIp(r, 'SourceAddr', true),
    SourcePort: r.u16('SourcePort'),
    SourceNode: r.string('SourceNode'),
  };
}

export function writeAckResp(w: GoMsgpackWriter, a: AckResp): void {
  writeStruct(w, 'ackResp', { SeqNo: uint32(a.SeqNo), Payload: bytes(a.Payload) });
}

export function readAckResp(value: unknown): AckResp {
  const r = new StructReader('ackResp', value);
  return { SeqNo: r.u32('SeqNo'), Payload: r.bytes('Payload') };
}

export function writeNackResp(w: GoMsgpackWriter, n: NackResp): void {
  writeStruct(w, 'nackResp', { SeqNo: uint32(n.SeqNo) });
}

export function readNackResp(value: unknown): NackResp {
  return { SeqNo: new StructReader('nackResp', value).u32('SeqNo') };
}

/** suspect and dead share a shape: {Incarnation, Node, From}. */
function writeAccusation(w: GoMsgpackWriter, struct: string, s: Suspect | Dead): void {
  writeStruct(w, struct, { Incarnation: uint32(s.Incarnation), Node: str(s.Node), From: str(s.From) });
}

function readAccusation(struct: string, value: unknown): Suspect {
  const r = new StructReader(struct, value);
  return { Incarnation: r.u32('Incarnation'), Node: r.string('Node'), From: r.string('From') };
}

export function writeAlive(w: GoMsgpackWriter, a: Alive): void {
  writeStruct(w, 'alive', {
    Incarnation: uint32(a.Incarnation),
    Node: str(a.Node),
    Addr: bytes(checkIp(a.Addr, 'alive.Addr')),
    Port: uint16(a.Port),
    Meta: bytes(checkMeta(a.Meta, 'alive.Meta')),
    Vsn: bytes(vsnBytes(a.Vsn, 'alive.Vsn')),
  });
}

export function readAlive(value: unknown): Alive {
  const r = new StructReader('alive', value);
  return {
    Incarnation: r.u32('Incarnation'),
    Node: r.string('Node'),
    Addr: readIp(r, 'Addr'),
    Port: r.u16('Port'),
    Meta: r.bytes('Meta', META_MAX_BYTES),
    Vsn: readVsn(r, 'Vsn'),
  };
}

export function writeErrResp(w: GoMsgpackWriter, e: ErrResp): void {
  writeStruct(w, 'errResp', { Error: str(e.Error) });
}

export function readErrResp(value: unknown): ErrResp {
  return { Error: new StructReader('errResp', value).string('Error', MAX_ERROR_BYTES) };
}

export function writePushPullHeader(w: GoMsgpackWriter, h: PushPullHeader): void {
  writeStruct(w, 'pushPullHeader', {
    Nodes: int(h.Nodes),
    UserStateLen: int(h.UserStateLen),
    Join: bool(h.Join),
  });
}

export function readPushPullHeader(value: unknown): PushPullHeader {
  const r = new StructReader('pushPullHeader', value);
  const header = { Nodes: r.int('Nodes'), UserStateLen: r.int('UserStateLen'), Join: r.bool('Join') };
  if (header.Nodes < 0 || header.UserStateLen < 0) {
    throw new GossipCodecError('malformed', 'pushPullHeader has a negative count');
  }
  return header;
}

export function writePushNodeState(w: GoMsgpackWriter, n: PushNodeState): void {
  if (!Number.isInteger(n.State) || n.State < NodeStateCode.alive || n.State > NodeStateCode.left) {
    throw new GossipCodecError('encode', `pushNodeState.State ${n.State} is not a node state`);
  }
  writeStruct(w, 'pushNodeState', {
    Name: str(n.Name),
    Addr: bytes(checkIp(n.Addr, 'pushNodeState.Addr')),
    Port: uint16(n.Port),
    Meta: bytes(checkMeta(n.Meta, 'pushNodeState.Meta')),
    Incarnation: uint32(n.Incarnation),
    State: int(n.State),
    Vsn: bytes(vsnBytes(n.Vsn, 'pushNodeState.Vsn')),
  });
}

export function readPushNodeState(value: unknown): PushNodeState {
  const r = new StructReader('pushNodeState', value);
  const state = r.int('State');
  if (state < NodeStateCode.alive || state > NodeStateCode.left) {
    throw new GossipCodecError('malformed', `pushNodeState.State ${state} is not a node state`);
  }
  return {
    Name: r.string('Name'),
    Addr: readIp(r, 'Addr'),
    Port: r.u16('Port'),
    Meta: r.bytes('Meta', META_MAX_BYTES),
    Incarnation: r.u32('Incarnation'),
    State: state,
    Vsn: readVsn(r, 'Vsn'),
  };
}

/** Precedes a user message sent on a stream: `[8] {UserMsgLen}` then that many bytes. */
export function writeUserMsgHeader(w: GoMsgpackWriter, length: number): void {
  writeStruct(w, 'userMsgHeader', { UserMsgLen: int(length) });
}

export function readUserMsgHeader(value: unknown): number {
  const length = new StructReader('userMsgHeader', value).int('UserMsgLen');
  if (length < 0) throw new GossipCodecError('malformed', 'userMsgHeader.UserMsgLen is negative');
  return length;
}

/** The body of a compress message: {Algo, Buf}; Algo 0 is LZW, the only one memberlist knows. */
export function writeCompress(w: GoMsgpackWriter, algo: number, buf: Uint8Array): void {
  writeStruct(w, 'compress', { Algo: uint8(algo), Buf: bytes(buf) });
}

export function readCompress(value: unknown): { Algo: number; Buf: Uint8Array } {
  const r = new StructReader('compress', value);
  return { Algo: r.u8('Algo'), Buf: r.bytes('Buf') };
}

// ---- whole messages

/** Encodes one message as memberlist sends it: the type byte, then the struct (or the user bytes). */
export function encodeMessage(message: GossipMessage): Uint8Array {
  const w = new GoMsgpackWriter();
  w.byte(MessageType[message.type]);
  switch (message.type) {
    case 'ping':
      writePing(w, message.body);
      break;
    case 'indirectPing':
      writeIndirectPing(w, message.body);
      break;
    case 'ackResp':
      writeAckResp(w, message.body);
      break;
    case 'nackResp':
      writeNackResp(w, message.body);
      break;
    case 'suspect':
      writeAccusation(w, 'suspect', message.body);
      break;
    case 'alive':
      writeAlive(w, message.body);
      break;
    case 'dead':
      writeAccusation(w, 'dead', message.body);
      break;
    case 'err':
      writeErrResp(w, message.body);
      break;
    case 'user':
      w.append(message.body);
      break;
  }
  return w.bytes();
}

/** Decodes one message (no compound, compress, CRC or encryption around it). */
export function decodeMessage(buf: Uint8Array): GossipMessage {
  if (buf.length === 0) throw new GossipCodecError('truncated', 'message has no type byte');
  const type = TYPE_NAMES.get(buf[0]!);
  if (type === undefined) {
    throw new GossipCodecError('unsupported', `message type ${buf[0]} is not a single message`);
  }
  if (type === 'user') return { type, body: new Uint8Array(buf.subarray(1)) };
  const value = decodeValue(buf.subarray(1));
  switch (type) {
    case 'ping':
      return { type, body: readPing(value) };
    case 'indirectPing':
      return { type, body: readIndirectPing(value) };
    case 'ackResp':
      return { type, body: readAckResp(value) };
    case 'nackResp':
      return { type, body: readNackResp(value) };
    case 'suspect':
      return { type, body: readAccusation('suspect', value) };
    case 'alive':
      return { type, body: readAlive(value) };
    case 'dead':
      return { type, body: readAccusation('dead', value) };
    case 'err':
      return { type, body: readErrResp(value) };
  }
}
