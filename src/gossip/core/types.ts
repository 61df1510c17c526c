import type { GossipMessage, Ping, PushPull, Vsn } from '../messages.ts';

/** Where a node listens: UDP and TCP share the port. `name` is empty when unknown (joining by address). */
export interface Address {
  name: string;
  /** 4 bytes (IPv4) or 16 (IPv6), as on the wire. */
  addr: Uint8Array;
  port: number;
}

export type NodeState = 'alive' | 'suspect' | 'dead' | 'left';

/** A copy of one row of the member table. */
export interface Member {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array;
  incarnation: number;
  state: NodeState;
  /** When the state last changed (ms, the caller's clock). */
  stateChange: number;
  vsn: Vsn;
}

/** A UDP packet to send: one message, or several that the wire codec packs into a compound message. */
export interface OutPacket {
  to: Address;
  messages: GossipMessage[];
  /** The receiver understands protocol 5: the codec should add a CRC. */
  crc: boolean;
}

/**
 * Work the driver does over a stream (TCP) and reports back by `id`:
 * - `pushPull`: send `state`, read the peer's; then `handlePushPullResponse(id, remote)` or `streamFailed(id)`;
 * - `ping`: a TCP ping after failed UDP probes; `handleStreamPingResult(id, acked)` before `deadline`.
 */
export type StreamRequest =
  | { kind: 'pushPull'; id: number; to: Address; join: boolean; state: PushPull; deadline: number }
  | { kind: 'ping'; id: number; to: Address; ping: Ping; deadline: number };

export type GossipEvent =
  /** A member appeared or came back (dead/left → alive). The local node joins itself first. */
  | { type: 'join'; member: Member }
  /** An alive member's meta changed. */
  | { type: 'update'; member: Member }
  /** A member left gracefully (dead message from itself). */
  | { type: 'leave'; member: Member }
  /** A member was declared dead. */
  | { type: 'fail'; member: Member }
  /** Someone claims a known member's name from another address; ignored. */
  | { type: 'conflict'; existing: Member; other: Member }
  /** A delegate (serf) message arrived. */
  | { type: 'user'; body: Uint8Array }
  /** Delegate state from a push/pull, after the member states were merged. */
  | { type: 'remoteState'; join: boolean; body: Uint8Array }
  /** A probe was answered directly within the probe timeout, after `rttMs`, with the ack's payload (serf: a coordinate). */
  | { type: 'pingComplete'; member: Member; rttMs: number; payload: Uint8Array }
  /** Our leave or meta update has been gossiped as often as it will be. */
  | { type: 'broadcastFinished'; tag: 'leave' | 'update' };

/** Everything produced since the last `takeOutput()`. */
export interface Output {
  packets: OutPacket[];
  streams: StreamRequest[];
  events: GossipEvent[];
}

/** The layer above (serf) plugs in here; every method is optional and is called synchronously. */
export interface GossipDelegate {
  /** User broadcasts to piggyback after the core's own, within `limit` bytes, `overhead` more per message. */
  getBroadcasts?(overhead: number, limit: number): Uint8Array[];
  /** The user state to send in a push/pull. */
  localState?(join: boolean): Uint8Array;
  /** The payload of acks this node sends. */
  ackPayload?(): Uint8Array;
}
