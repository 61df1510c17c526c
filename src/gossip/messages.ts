// hashicorp/memberlist's messages (protocol versions 2–5, as memberlist 0.2.x and Debian's serf 0.9.4 speak
// them), as plain data. The wire codec (wire/) turns them into packets; the SWIM core (core/) reasons about
// them. Field names are memberlist's Go names, because on the wire each struct is a msgpack map keyed by them.

/** The packet type byte that starts every message. */
export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ackResp: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nackResp: 11,
  hasCrc: 12,
  err: 13,
} as const;
export type MessageTypeName = keyof typeof MessageType;

/** A node's protocol versions, always exactly six bytes on the wire: [pmin, pmax, pcur, dmin, dmax, dcur]. */
export type Vsn = readonly [number, number, number, number, number, number];

/** What serf's agent advertises; a Tribune agent speaks the same range. */
export const DEFAULT_VSN: Vsn = [1, 5, 2, 2, 5, 5];

export interface Ping {
  SeqNo: number;
  /** The node the sender means to probe: a node that is not it ignores the ping. */
  Node: string;
  /** Where the ack must go, when set (otherwise to the packet's source). */
  SourceAddr: Uint8Array;
  SourcePort: number;
  SourceNode: string;
}

export interface IndirectPing {
  SeqNo: number;
  Target: Uint8Array;
  Port: number;
  Node: string;
  /** Whether the requester wants a nack when the target does not answer (protocol ≥ 4). */
  Nack: boolean;
  SourceAddr: Uint8Array;
  SourcePort: number;
  SourceNode: string;
}

export interface AckResp {
  SeqNo: number;
  Payload: Uint8Array;
}

export interface NackResp {
  SeqNo: number;
}

export interface Suspect {
  Incarnation: number;
  Node: string;
  From: string;
}

export interface Alive {
  Incarnation: number;
  Node: string;
  /** 4 bytes for IPv4, 16 for IPv6. */
  Addr: Uint8Array;
  Port: number;
  Meta: Uint8Array;
  Vsn: Vsn;
}

/** A node declared dead; `From === Node` means it left gracefully. */
export interface Dead {
  Incarnation: number;
  Node: string;
  From: string;
}

export interface ErrResp {
  Error: string;
}

/** The state of a node in a push/pull exchange. */
export const NodeStateCode = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
export type NodeStateName = keyof typeof NodeStateCode;

export interface PushPullHeader {
  Nodes: number;
  UserStateLen: number;
  /** True when the sender is joining: the receiver merges and answers with its own state. */
  Join: boolean;
}

export interface PushNodeState {
  Name: string;
  Addr: Uint8Array;
  Port: number;
  Meta: Uint8Array;
  Incarnation: number;
  State: number;
  Vsn: Vsn;
}

/** A push/pull exchange over TCP: the header, every node's state, then the delegate's (serf's) user state. */
export interface PushPull {
  join: boolean;
  nodes: PushNodeState[];
  userState: Uint8Array;
}

/** One gossip message as the core produces and consumes it (compound, compress, CRC and encrypt are wire-only). */
export type GossipMessage =
  | { type: 'ping'; body: Ping }
  | { type: 'indirectPing'; body: IndirectPing }
  | { type: 'ackResp'; body: AckResp }
  | { type: 'nackResp'; body: NackResp }
  | { type: 'suspect'; body: Suspect }
  | { type: 'alive'; body: Alive }
  | { type: 'dead'; body: Dead }
  | { type: 'err'; body: ErrResp }
  /** A delegate (serf) message: its bytes after the user type byte. */
  | { type: 'user'; body: Uint8Array };
