import { GossipCodecError } from './errors.ts';
import {
  bool,
  bytes,
  type FieldWriter,
  int,
  StructReader,
  str,
  toBytes,
  toInteger,
  toText,
  uint8,
  uint16,
  uint32,
  uint64,
  writeStruct,
} from './fields.ts';
import { decodeValue, decodeValueAt, GoMsgpackWriter } from './go-msgpack.ts';

// serf's messages, carried as memberlist user messages ([8] on packets, or a stream user message):
// `[serf type byte][msgpack struct]`. The same encoding is serf's push/pull user state (type 2) and the
// filters inside a query. Shapes are serf 0.9.x's (serf/messages.go); LamportTime is a Go uint64, read here
// up to 2^53 - 1.

export const SerfMessageType = {
  leave: 0,
  join: 1,
  pushPull: 2,
  userEvent: 3,
  query: 4,
  queryResponse: 5,
  /** The payload of a response to the internal `_serf_conflict` query; never gossiped on its own. */
  conflictResponse: 6,
  /** Payloads of the internal key-management queries; never gossiped on their own. */
  keyRequest: 7,
  keyResponse: 8,
  relay: 9,
} as const;

/** messageQuery.Flags and messageQueryResponse.Flags. */
export const SerfQueryFlag = {
  /** The sender wants an ack from every node that receives the query. */
  ack: 1,
  /** Do not re-broadcast the query (it was sent directly). */
  noBroadcast: 2,
} as const;

/** A node's join intent, stamped with the member clock. */
export interface SerfJoin {
  LTime: number;
  Node: string;
}

/** A node's leave intent; Prune (serf ≥ 0.8.5) asks members to forget the node at once. */
export interface SerfLeave {
  LTime: number;
  Node: string;
  Prune: boolean;
}

export interface SerfUserEvent {
  LTime: number;
  Name: string;
  Payload: Uint8Array;
  /** "Can coalesce": receivers may merge events of the same name. */
  CC: boolean;
}

export interface SerfEvent {
  Name: string;
  Payload: Uint8Array;
}

/** The events serf remembers for one event-clock tick. */
export interface SerfUserEvents {
  LTime: number;
  Events: SerfEvent[];
}

/** serf's push/pull user state: its three clocks, members' status times, left members, recent events. */
export interface SerfPushPull {
  LTime: number;
  StatusLTimes: Map<string, number>;
  LeftMembers: string[];
  EventLTime: number;
  /** serf sends its whole event ring buffer: slots never used are nil (null here). */
  Events: (SerfUserEvents | null)[];
  QueryLTime: number;
}

export interface SerfQuery {
  LTime: number;
  ID: number;
  /** Where responses go (4 or 16 bytes), with Port. */
  Addr: Uint8Array;
  Port: number;
  /** The sender's node name (serf ≥ 0.9), for node-aware transports. */
  SourceNode: string;
  /** Each one an encoded filter (see encodeSerfFilter). */
  Filters: Uint8Array[];
  Flags: number;
  /** Extra members asked to relay each response, in case the direct path fails. */
  RelayFactor: number;
  /** Go time.Duration: nanoseconds. */
  Timeout: number;
  Name: string;
  Payload: Uint8Array;
}

export interface SerfQueryResponse {
  LTime: number;
  ID: number;
  From: string;
  Flags: number;
  Payload: Uint8Array;
}

/** A message to be forwarded to DestAddr by the member that receives it (query-response relaying). */
export interface SerfRelay {
  DestAddr: { IP: Uint8Array; Port: number; Zone: string };
  DestName: string;
  /** The forwarded serf message, still encoded (`[type][msgpack]`). */
  message: Uint8Array;
}

export type SerfMessage =
  | { type: 'leave'; body: SerfLeave }
  | { type: 'join'; body: SerfJoin }
  | { type: 'pushPull'; body: SerfPushPull }
  | { type: 'userEvent'; body: SerfUserEvent }
  | { type: 'query'; body: SerfQuery }
  | { type: 'queryResponse'; body: SerfQueryResponse }
  | { type: 'relay'; body: SerfRelay };

/** Names in push/pull state, and left members: bounded so a push/pull cannot claim endless lists. */
const MAX_LIST = 1024 * 1024;

const lamport = uint64;

function stringArray(values: readonly string[]): FieldWriter {
  return (w) => {
    w.arrayHeader(values.length);
    for (const value of values) w.string(value);
  };
}

function readList<T>(r: StructReader, field: string, read: (item: unknown, what: string) => T): T[] {
  const items = r.array(field);
  if (items.length > MAX_LIST) throw new GossipCodecError('limit', `${r.struct}.${field} has too many items`);
  return items.map((item, i) => read(item, `${r.struct}.${field}[${i}]`));
}

function writeBody(w: GoMsgpackWriter, message: SerfMessage): void {
  switch (message.type) {
    case 'leave': {
      const { LTime, Node, Prune } = message.body;
      writeStruct(w, 'messageLeave', { LTime: lamport(LTime), Node: str(Node), Prune: bool(Prune) });
      return;
    }
    case 'join':
      writeStruct(w, 'messageJoin', { LTime: lamport(message.body.LTime), Node: str(message.body.Node) });
      return;
    case 'pushPull':
      writePushPull(w, message.body);
      return;
    case 'userEvent': {
      const { LTime, Name, Payload, CC } = message.body;
      writeStruct(w, 'messageUserEvent', {
        LTime: lamport(LTime),
        Name: str(Name),
        Payload: bytes(Payload),
        CC: bool(CC),
      });
      return;
    }
    case 'query': {
      const q = message.body;
      writeStruct(w, 'messageQuery', {
        LTime: lamport(q.LTime),
        ID: uint32(q.ID),
        Addr: bytes(q.Addr),
        Port: uint16(q.Port),
        SourceNode: str(q.SourceNode),
        Filters: (w) => {
          w.arrayHeader(q.Filters.length);
          for (const filter of q.Filters) w.raw(filter);
        },
        Flags: uint32(q.Flags),
        RelayFactor: uint8(q.RelayFactor),
        Timeout: int(q.Timeout),
        Name: str(q.Name),
        Payload: bytes(q.Payload),
      });
      return;
    }
    case 'queryResponse': {
      const { LTime, ID, From, Flags, Payload } = message.body;
      writeStruct(w, 'messageQueryResponse', {
        LTime: lamport(LTime),
        ID: uint32(ID),
        From: str(From),
        Flags: uint32(Flags),
        Payload: bytes(Payload),
      });
      return;
    }
    case 'relay': {
      const { DestAddr, DestName, message: inner } = message.body;
      writeStruct(w, 'relayHeader', {
        DestAddr: (w) =>
          writeStruct(w, 'UDPAddr', {
            IP: bytes(DestAddr.IP),
            Port: int(DestAddr.Port),
            Zone: str(DestAddr.Zone),
          }),
        DestName: str(DestName),
      });
      w.append(inner);
      return;
    }
  }
}

function writePushPull(w: GoMsgpackWriter, pp: SerfPushPull): void {
  writeStruct(w, 'messagePushPull', {
    LTime: lamport(pp.LTime),
    StatusLTimes: (w) => {
      const names = [...pp.StatusLTimes.keys()].sort();
      w.mapHeader(names.length);
      for (const name of names) {
        w.string(name);
        lamport(pp.StatusLTimes.get(name)!)(w, `messagePushPull.StatusLTimes[${name}]`);
      }
    },
    LeftMembers: stringArray(pp.LeftMembers),
    EventLTime: lamport(pp.EventLTime),
    Events: (w) => {
      w.arrayHeader(pp.Events.length);
      for (const events of pp.Events) {
        if (events === null) {
          w.nil();
          continue;
        }
        writeStruct(w, 'userEvents', {
          LTime: lamport(events.LTime),
          Events: (w) => {
            w.arrayHeader(events.Events.length);
            for (const e of events.Events)
              writeStruct(w, 'userEvent', { Name: str(e.Name), Payload: bytes(e.Payload) });
          },
        });
      }
    },
    QueryLTime: lamport(pp.QueryLTime),
  });
}

function readPushPull(value: unknown): SerfPushPull {
  const r = new StructReader('messagePushPull', value);
  const statusLTimes = new Map<string, number>();
  const statuses = Object.entries(r.map('StatusLTimes'));
  if (statuses.length > MAX_LIST)
    throw new GossipCodecError('limit', 'messagePushPull.StatusLTimes is too large');
  for (const [name, ltime] of statuses) {
    statusLTimes.set(name, toInteger(ltime, `StatusLTimes[${name}]`, 0, Number.MAX_SAFE_INTEGER));
  }
  return {
    LTime: r.u64('LTime'),
    StatusLTimes: statusLTimes,
    LeftMembers: readList(r, 'LeftMembers', (item, what) => toText(item, what)),
    EventLTime: r.u64('EventLTime'),
    Events: readList(r, 'Events', (item) => {
      if (item === null || item === undefined) return null;
      const e = new StructReader('userEvents', item);
      return {
        LTime: e.u64('LTime'),
        Events: readList(e, 'Events', (event) => {
          const ev = new StructReader('userEvent', event);
          return { Name: ev.string('Name'), Payload: ev.bytes('Payload') };
        }),
      };
    }),
    QueryLTime: r.u64('QueryLTime'),
  };
}

/** Encodes a serf message: its type byte, then the struct (and for a relay, the message it carries). */
export function encodeSerfMessage(message: SerfMessage): Uint8Array {
  const w = new GoMsgpackWriter();
  w.byte(SerfMessageType[message.type]);
  writeBody(w, message);
  return w.bytes();
}

/** Decodes a serf message (the body of a memberlist user message, or serf's push/pull user state). */
export function decodeSerfMessage(buf: Uint8Array): SerfMessage {
  if (buf.length === 0) throw new GossipCodecError('truncated', 'serf message has no type byte');
  const type = buf[0]!;
  if (type === SerfMessageType.relay) {
    const { value, end } = decodeValueAt(buf, 1);
    const header = new StructReader('relayHeader', value);
    const addr = new StructReader('UDPAddr', header.get('DestAddr') ?? {});
    const message = new Uint8Array(buf.subarray(end));
    if (message.length === 0) throw new GossipCodecError('truncated', 'relay carries no message');
    return {
      type: 'relay',
      body: {
        DestAddr: { IP: addr.bytes('IP', 16), Port: addr.u16('Port'), Zone: addr.string('Zone') },
        DestName: header.string('DestName'),
        message,
      },
    };
  }
  const value = decodeValue(buf.subarray(1));
  switch (type) {
    case SerfMessageType.leave: {
      const r = new StructReader('messageLeave', value);
      return {
        type: 'leave',
        body: { LTime: r.u64('LTime'), Node: r.string('Node'), Prune: r.bool('Prune') },
      };
    }
    case SerfMessageType.join: {
      const r = new StructReader('messageJoin', value);
      return { type: 'join', body: { LTime: r.u64('LTime'), Node: r.string('Node') } };
    }
    case SerfMessageType.pushPull:
      return { type: 'pushPull', body: readPushPull(value) };
    case SerfMessageType.userEvent: {
      const r = new StructReader('messageUserEvent', value);
      return {
        type: 'userEvent',
        body: {
          LTime: r.u64('LTime'),
          Name: r.string('Name'),
          Payload: r.bytes('Payload'),
          CC: r.bool('CC'),
        },
      };
    }
    case SerfMessageType.query: {
      const r = new StructReader('messageQuery', value);
      return {
        type: 'query',
        body: {
          LTime: r.u64('LTime'),
          ID: r.u32('ID'),
          Addr: r.bytes('Addr', 16),
          Port: r.u16('Port'),
          SourceNode: r.string('SourceNode'),
          Filters: readList(r, 'Filters', (item, what) => toBytes(item, what)),
          Flags: r.u32('Flags'),
          RelayFactor: r.u8('RelayFactor'),
          Timeout: r.int('Timeout'),
          Name: r.string('Name'),
          Payload: r.bytes('Payload'),
        },
      };
    }
    case SerfMessageType.queryResponse: {
      const r = new StructReader('messageQueryResponse', value);
      return {
        type: 'queryResponse',
        body: {
          LTime: r.u64('LTime'),
          ID: r.u32('ID'),
          From: r.string('From'),
          Flags: r.u32('Flags'),
          Payload: r.bytes('Payload'),
        },
      };
    }
    default:
      throw new GossipCodecError('unsupported', `serf message type ${type} is not gossiped`);
  }
}

/** A query filter: only the named nodes, or only nodes whose tag matches a regular expression. */
export type SerfFilter = { type: 'node'; nodes: string[] } | { type: 'tag'; tag: string; expr: string };

export function encodeSerfFilter(filter: SerfFilter): Uint8Array {
  const w = new GoMsgpackWriter();
  if (filter.type === 'node') {
    w.byte(0);
    stringArray(filter.nodes)(w, 'filterNode');
  } else {
    w.byte(1);
    writeStruct(w, 'filterTag', { Tag: str(filter.tag), Expr: str(filter.expr) });
  }
  return w.bytes();
}

export function decodeSerfFilter(buf: Uint8Array): SerfFilter {
  if (buf.length === 0) throw new GossipCodecError('truncated', 'serf filter has no type byte');
  const value = decodeValue(buf.subarray(1));
  if (buf[0] === 0) {
    if (value !== null && !Array.isArray(value))
      throw new GossipCodecError('malformed', 'filterNode is not an array');
    const nodes = (value ?? []) as unknown[];
    if (nodes.length > MAX_LIST) throw new GossipCodecError('limit', 'filterNode has too many nodes');
    return { type: 'node', nodes: nodes.map((node, i) => toText(node, `filterNode[${i}]`)) };
  }
  if (buf[0] === 1) {
    const r = new StructReader('filterTag', value);
    return { type: 'tag', tag: r.string('Tag'), expr: r.string('Expr') };
  }
  throw new GossipCodecError('unsupported', `serf filter type ${buf[0]}`);
}
