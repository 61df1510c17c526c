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

interface EntryHeader {
  index: number;
  term: number;
}

/** An application command, opaque to the core. */
export interface CommandEntry extends EntryHeader {
  kind: 'command';
  data: Uint8Array;
}

/** Appended by every new leader: it may only commit entries of its own term, so it needs one. */
export interface NoopEntry extends EntryHeader {
  kind: 'noop';
}

/** A membership; it takes effect on a server as soon as the server appends it, committed or not. */
export interface MembershipEntry extends EntryHeader {
  kind: 'membership';
  membership: Membership;
}

export type Entry = CommandEntry | NoopEntry | MembershipEntry;

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
export function entryBytes(entry: Entry): number {
  const header = 24;
  switch (entry.kind) {
    case 'command':
      return header + entry.data.byteLength;
    case 'noop':
      return header;
    case 'membership':
      return header + 40 * (entry.membership.voters.length + entry.membership.learners.length);
  }
}
