import { type Entry, EntryType, type Membership, type NodeId } from './types.ts';

/** One server at a time: any majority of the old membership then overlaps any majority of the new one. */
export type MembershipChange =
  | { kind: 'add-voter'; node: NodeId }
  | { kind: 'add-learner'; node: NodeId }
  | { kind: 'promote'; node: NodeId }
  | { kind: 'remove'; node: NodeId };

export const isVoter = (membership: Membership, id: NodeId): boolean => membership.voters.includes(id);
export const isMember = (membership: Membership, id: NodeId): boolean =>
  membership.voters.includes(id) || membership.learners.includes(id);
export const membersOf = (membership: Membership): NodeId[] => [...membership.voters, ...membership.learners];

const without = (ids: readonly NodeId[], id: NodeId) => ids.filter((other) => other !== id);

/** The membership after `change`, or why the change does not apply. */
export function applyChange(membership: Membership, change: MembershipChange): Membership | string {
  const { voters, learners } = membership;
  const { node } = change;
  switch (change.kind) {
    case 'add-voter':
      if (voters.includes(node)) return `${node} is already a voter`;
      return { voters: [...voters, node], learners: without(learners, node) };
    case 'add-learner':
      if (isMember(membership, node)) return `${node} is already a member`;
      return { voters, learners: [...learners, node] };
    case 'promote':
      if (!learners.includes(node)) return `${node} is not a non-voter`;
      return { voters: [...voters, node], learners: without(learners, node) };
    case 'remove':
      if (!isMember(membership, node)) return `${node} is not a member`;
      if (voters.length === 1 && voters[0] === node) return `${node} is the last voter`;
      return { voters: without(voters, node), learners: without(learners, node) };
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export const encodeMembership = (membership: Membership): Uint8Array =>
  utf8.encode(JSON.stringify(membership));

export function decodeMembership(data: Uint8Array): Membership {
  const { voters, learners } = JSON.parse(fromUtf8.decode(data)) as Membership;
  return { voters, learners };
}

/** The entry every initial voter writes at index 1 when a cluster is bootstrapped (as Consul does). */
export function bootstrapEntry(voters: NodeId[]): Entry {
  const membership = { voters: [...voters], learners: [] };
  return { index: 1, term: 1, type: EntryType.membership, data: encodeMembership(membership) };
}

/**
 * The memberships recorded in the log after the last snapshot. Memberships take effect when appended, so a
 * follower whose log is truncated must fall back to an earlier one; and a snapshot needs the one in force at
 * its index.
 */
export class MembershipHistory {
  /** Ascending by index; the first is the base (from the snapshot) and is never dropped. */
  private changes: { index: number; membership: Membership }[];

  constructor(baseIndex: number, base: Membership) {
    this.changes = [{ index: baseIndex, membership: base }];
  }

  get current(): Membership {
    return this.changes.at(-1)!.membership;
  }

  /** Log index of the current membership's entry (or of the snapshot that carries it). */
  get currentIndex(): number {
    return this.changes.at(-1)!.index;
  }

  /** Entries were written starting at `entries[0].index`, replacing whatever the log held from there on. */
  record(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    this.truncateFrom(first.index);
    for (const entry of entries) {
      if (entry.type === EntryType.membership) {
        this.changes.push({ index: entry.index, membership: decodeMembership(entry.data) });
      }
    }
  }

  /** The membership in force at `index` (which must not precede the base). */
  at(index: number): Membership {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const change = this.changes[i]!;
      if (change.index <= index) return change.membership;
    }
    throw new Error(`no membership known at index ${index}: history starts at ${this.changes[0]!.index}`);
  }

  /**
   * The log was replaced by a snapshot at `index`. Changes up to `committed` stay known: entries up to there
   * may still be waiting to be applied, and the application may snapshot them meanwhile.
   */
  restore(index: number, membership: Membership, committed: number): void {
    this.truncateFrom(committed + 1);
    this.changes.push({ index, membership });
  }

  /** Forgets changes that no longer matter once the log before `index` is compacted. */
  compactTo(index: number): void {
    while (this.changes.length > 1 && this.changes[1]!.index <= index) this.changes.shift();
  }

  private truncateFrom(index: number): void {
    while (this.changes.length > 1 && this.changes.at(-1)!.index >= index) this.changes.pop();
  }
}
