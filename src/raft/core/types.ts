// The data the consensus core exchanges with its driver and storage. Everything here is a plain object of
// numbers, strings, arrays and byte arrays so it can be msgpack-encoded as is; absent values are `null`,
// never `undefined` (msgpack turns undefined into nil).

/** Servers are named by their node ID (for Tribune, the agent's node-id). */
export type NodeId = string;

/** Who takes part: voters elect leaders and form quorums; learners (non-voters) only receive the log. */
export interface Membership {
  voters: NodeId[];
  learners: NodeId[];
}

/**
 * One log entry. `type` names what `data` holds: `command` (an application command, opaque to the core),
 * `noop` (appended by every new leader: it may only commit entries of its own term, so it needs one) or
 * `membership` (an encoded `Membership`, in force on a server as soon as the server appends it).
 */
export interface Entry {
  index: number;
  term: number;
  type: string;
  data: Uint8Array;
}

export const EntryType = { command: 'command', noop: 'noop', membership: 'membership' } as const;

/** What must survive a crash besides the log: the term, the vote cast in it, and how far the log is committed. */
export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

/** Describes a state-machine snapshot: it holds every entry up to `index`, and the membership in force there. */
export interface SnapshotMeta {
  index: number;
  term: number;
  membership: Membership;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Rough encoded size of an entry, for the byte limits on messages and on what is applied at once. */
export const entryBytes = (entry: Entry): number => 16 + entry.type.length + entry.data.byteLength;
