import type { Entry, NodeId, SnapshotMeta } from './types.ts';

// What servers send each other. Plain objects with `null` for absent values, ready for msgpack. Every
// message carries the sender's term; `round` is the leader's heartbeat round, echoed by followers so the
// leader knows which of its messages a quorum has seen (for ReadIndex and the lease).

interface Envelope {
  from: NodeId;
  to: NodeId;
  term: number;
}

/**
 * A request for a vote. A pre-vote asks "would you vote for me at `term`?" without anyone changing term.
 * `transfer` marks the election a leader asked for (TimeoutNow): it may cut through a live leader's lease.
 */
export interface VoteRequest extends Envelope {
  type: 'vote' | 'pre-vote';
  lastLogIndex: number;
  lastLogTerm: number;
  transfer: boolean;
}

export interface VoteResponse extends Envelope {
  type: 'vote-response' | 'pre-vote-response';
  granted: boolean;
}

export interface AppendRequest extends Envelope {
  type: 'append';
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commit: number;
  round: number;
}

/**
 * On success `index` is the last index now known to match the leader's log. On rejection `index` is the
 * rejected `prevIndex`, and the hint is where the follower suggests probing next: the last index at or
 * before it whose term is not above the rejected `prevTerm` (so a whole conflicting term is skipped at once).
 */
export interface AppendResponse extends Envelope {
  type: 'append-response';
  success: boolean;
  index: number;
  hintIndex: number;
  hintTerm: number;
  round: number;
}

/** Carries the commit index only as far as the follower is known to match (min of match and commit). */
export interface Heartbeat extends Envelope {
  type: 'heartbeat';
  commit: number;
  round: number;
}

export interface HeartbeatResponse extends Envelope {
  type: 'heartbeat-response';
  round: number;
}

/**
 * Tells a follower to replace its log with the leader's latest snapshot. The data never passes through the
 * core: the sending driver streams the snapshot named by `meta` in chunks, and the receiving driver steps
 * this message once it has stored them all, with `handle` set to wherever it put them. The core hands the
 * handle back in `Ready.snapshot`. The follower answers with an append-response.
 */
export interface InstallSnapshot extends Envelope {
  type: 'install-snapshot';
  meta: SnapshotMeta;
  handle: string;
  round: number;
}

/** Sent by a leader handing over leadership: start an election now, without pre-vote. */
export interface TimeoutNow extends Envelope {
  type: 'timeout-now';
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | TimeoutNow;

/** A message as its author writes it; the sender's id and term are filled in on the way out. */
export type Outgoing = WithoutEnvelope<Message>;
type WithoutEnvelope<M> = M extends unknown ? Omit<M, 'from' | 'term'> : never;

/** Messages only a leader sends: receiving one in the current term means the sender leads it. */
export const fromLeader = (m: Message): m is AppendRequest | Heartbeat | InstallSnapshot =>
  m.type === 'append' || m.type === 'heartbeat' || m.type === 'install-snapshot';
