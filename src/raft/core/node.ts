import type { PeerStatus, Proposed } from './leader.ts';
import type { IncomingSnapshot } from './log.ts';
import type { MembershipChange } from './membership.ts';
import type { Message } from './messages.ts';
import { Raft, type RaftInit } from './raft.ts';
import type { ReadState } from './read-only.ts';
import type { Entry, HardState, Membership, NodeId, Role, SnapshotMeta } from './types.ts';

/** Who leads, as this server knows it; reported whenever it changes. */
export interface SoftState {
  term: number;
  role: Role;
  leader: NodeId | null;
}

/**
 * Everything the driver must do, in this order:
 * 1. persist `snapshot` (if any: the data behind its handle becomes the stored snapshot and the log is reset
 *    to it), then `entries` (replacing the stored log from `entries[0].index` on), then `hardState`;
 *    if `mustSync`, fsync before going on;
 * 2. send `messages` (never before step 1 is durable: they may promise votes or acknowledge entries);
 * 3. restore the state machine from `snapshot`, then apply `committed` in order;
 * 4. answer `readStates` once the state machine has applied their index; fail `abortedReads`;
 * 5. call `advance()`, and only then take the next Ready.
 * Two things may go ahead of step 1 (Raft §10.2.1, as etcd does): `earlyMessages`, a leader's appends and
 * heartbeats, which promise nothing (the leader counts its own log towards a commit only once persisted);
 * and, when there is no `snapshot`, applying `committed`, whose entries are already durable on a quorum.
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  entries: Entry[];
  snapshot: IncomingSnapshot | null;
  mustSync: boolean;
  /** May be sent before the writes of step 1 are durable. */
  earlyMessages: Message[];
  messages: Message[];
  committed: Entry[];
  readStates: ReadState[];
  abortedReads: string[];
}

export interface Status extends SoftState {
  id: NodeId;
  vote: NodeId | null;
  commit: number;
  applied: number;
  lastIndex: number;
  membership: Membership;
  transferee: NodeId | null;
  /** The leader's view of each peer (empty unless leading). */
  peers: PeerStatus[];
}

/** A read-only view of the log the core holds (persisted and not), for observers such as the simulator. */
export interface LogReader {
  firstIndex(): number;
  lastIndex(): number;
  term(index: number): number | undefined;
  entries(lo: number, hi: number, maxBytes: number): Entry[];
}

/** The public face of the consensus core: inputs in, Readys out. */
export class RaftNode {
  private readonly raft: Raft;
  private lastHardState: HardState;
  private lastSoftState: SoftState;
  private outstanding: Ready | null = null;

  constructor(init: RaftInit) {
    this.raft = new Raft(init);
    this.lastHardState = this.raft.hardState;
    this.lastSoftState = this.softState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  get term(): number {
    return this.raft.term;
  }

  get role(): Role {
    return this.raft.role;
  }

  /** The leader this server knows of in its term, if any. */
  get leader(): NodeId | null {
    return this.raft.leaderId;
  }

  get commit(): number {
    return this.raft.log.committed;
  }

  get log(): LogReader {
    return this.raft.log;
  }

  /** Advances logical time by one tick (the driver's fixed interval). */
  /** Advances time by `count` ticks; several at once mean this process was stalled meanwhile. */
  tick(count = 1): void {
    this.raft.tick(count);
  }

  step(message: Message): void {
    this.raft.step(message);
  }

  /** Appends an application command, if this server leads; it is applied once `committed` returns it. */
  propose(data: Uint8Array): Proposed {
    return this.raft.propose(data);
  }

  /** Adds, promotes or removes one server; it takes effect on each server as soon as appended there. */
  proposeMembershipChange(change: MembershipChange): Proposed {
    return this.raft.proposeMembershipChange(change);
  }

  /** Hands leadership to `to` once its log is caught up; aborted after an election timeout. */
  transferLeadership(to: NodeId): Proposed {
    return this.raft.transferLeadership(to);
  }

  /** Starts a linearizable read; the answer comes in `Ready.readStates` (or `abortedReads`). */
  readIndex(requestId: string): boolean {
    return this.raft.readIndex(requestId);
  }

  /** The index to read at, if this server leads and its lease is valid now; otherwise null. */
  leaseRead(): number | null {
    return this.raft.leaseRead();
  }

  /** The driver finished streaming a snapshot to `to`, or gave up. */
  reportSnapshot(to: NodeId, delivered: boolean): void {
    this.raft.reportSnapshot(to, delivered);
  }

  /** The driver could not deliver to `to`: stop pipelining to it until it answers again. */
  reportUnreachable(to: NodeId): void {
    this.raft.reportUnreachable(to);
  }

  /**
   * Describes a snapshot the application takes of its state at `index` (applied, and not before the latest
   * snapshot). Store it with the data, then report it with `snapshotSaved`.
   */
  snapshotMetaAt(index: number): SnapshotMeta {
    const { log, memberships, snapshot } = this.raft;
    if (index < snapshot.index || index > log.applied) {
      throw new Error(
        `cannot describe a snapshot at ${index}: must be within [${snapshot.index}, ${log.applied}]`,
      );
    }
    return { index, term: log.term(index)!, membership: memberships.at(index) };
  }

  /**
   * The snapshot is durable: followers too far behind get this one from now on, and the log store may drop
   * entries up to its index (keeping some helps followers that lag a little avoid a snapshot).
   */
  snapshotSaved(meta: SnapshotMeta): void {
    if (meta.index <= this.raft.snapshot.index) return;
    this.raft.snapshot = meta;
    this.raft.memberships.compactTo(meta.index);
  }

  status(): Status {
    const { raft } = this;
    return {
      ...this.softState(),
      id: raft.id,
      vote: raft.vote,
      commit: raft.log.committed,
      applied: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
      membership: raft.memberships.current,
      transferee: raft.transferee,
      peers: raft.peerStatus(),
    };
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    const { raft } = this;
    return (
      raft.hasPendingFlush() ||
      raft.messages.length > 0 ||
      raft.readStates.length > 0 ||
      raft.abortedReads.length > 0 ||
      raft.log.hasUnstableEntries() ||
      raft.log.incomingSnapshot() !== null ||
      raft.log.hasCommittedToApply() ||
      !sameHardState(raft.hardState, this.lastHardState) ||
      !sameSoftState(this.softState(), this.lastSoftState)
    );
  }

  ready(): Ready {
    if (this.outstanding) throw new Error('the previous Ready has not been advanced');
    const { raft } = this;
    raft.flush();
    const hardState = raft.hardState;
    const softState = this.softState();
    const entries = raft.log.unstableEntries();
    const snapshot = raft.log.incomingSnapshot();
    const hardStateChanged = !sameHardState(hardState, this.lastHardState);
    const termOrVoteChanged =
      hardState.term !== this.lastHardState.term || hardState.vote !== this.lastHardState.vote;
    const replicating = raft.role === 'leader' && !termOrVoteChanged;
    const ready: Ready = {
      softState: sameSoftState(softState, this.lastSoftState) ? null : softState,
      hardState: hardStateChanged ? hardState : null,
      entries,
      snapshot,
      mustSync: entries.length > 0 || snapshot !== null || termOrVoteChanged,
      earlyMessages: replicating ? raft.messages.filter(isReplication) : [],
      messages: replicating ? raft.messages.filter((m) => !isReplication(m)) : raft.messages,
      committed: raft.log.committedToApply(raft.options.maxApplyBytes),
      readStates: raft.readStates,
      abortedReads: raft.abortedReads,
    };
    raft.messages = [];
    raft.readStates = [];
    raft.abortedReads = [];
    this.lastSoftState = softState;
    if (ready.hardState) this.lastHardState = ready.hardState;
    this.outstanding = ready;
    return ready;
  }

  /** The driver has done everything the last Ready asked. */
  advance(): void {
    const ready = this.outstanding;
    if (!ready) throw new Error('no Ready to advance');
    this.outstanding = null;
    const { log } = this.raft;
    if (ready.snapshot) {
      log.snapshotInstalled(ready.snapshot.meta.index);
      log.appliedTo(ready.snapshot.meta.index);
      this.snapshotSaved(ready.snapshot.meta);
    }
    const lastEntry = ready.entries.at(-1);
    if (lastEntry) log.stableTo(lastEntry.index, lastEntry.term);
    const lastApplied = ready.committed.at(-1);
    if (lastApplied) log.appliedTo(lastApplied.index);
    this.raft.persisted();
  }

  private softState(): SoftState {
    const { raft } = this;
    return { term: raft.term, role: raft.role, leader: raft.leaderId };
  }
}

const isReplication = (m: Message) => m.type === 'append' || m.type === 'heartbeat';
const sameHardState = (a: HardState, b: HardState) =>
  a.term === b.term && a.vote === b.vote && a.commit === b.commit;
const sameSoftState = (a: SoftState, b: SoftState) =>
  a.term === b.term && a.role === b.role && a.leader === b.leader;
