import type { RaftOptions } from './config.ts';
import type { RaftLog } from './log.ts';
import {
  applyChange,
  encodeMembership,
  isVoter,
  type MembershipChange,
  type MembershipHistory,
  membersOf,
} from './membership.ts';
import type { AppendResponse, HeartbeatResponse, Outgoing } from './messages.ts';
import { Progress, type ReplicationState } from './progress.ts';
import { quorumValue } from './quorum.ts';
import { ReadOnly, type ReadState } from './read-only.ts';
import { type Entry, EntryType, entryBytes, type NodeId, type SnapshotMeta } from './types.ts';

/** What a leader needs from the server it runs on. */
export interface LeaderHost {
  readonly id: NodeId;
  readonly term: number;
  /** Ticks since the server started. */
  readonly now: number;
  readonly log: RaftLog;
  readonly memberships: MembershipHistory;
  readonly options: RaftOptions;
  /** The latest snapshot, sent to followers whose next entries are compacted. */
  readonly snapshot: SnapshotMeta;
  send(message: Outgoing): void;
  readReady(state: ReadState): void;
}

/** An entry before the leader gives it its place in the log. */
type EntryBody = Omit<Entry, 'index' | 'term'>;

export type Refusal =
  | { ok: false; reason: 'not-leader'; leader: NodeId | null }
  | { ok: false; reason: 'transferring' }
  | { ok: false; reason: 'change-in-progress' }
  | { ok: false; reason: 'invalid'; detail: string };

export type Proposed = { ok: true; index: number; term: number } | Refusal;

export interface PeerStatus {
  id: NodeId;
  voter: boolean;
  match: number;
  next: number;
  state: ReplicationState;
  /** Ticks since the peer last answered: what autopilot-style cleanup of dead servers looks at. */
  lastContactTicks: number;
}

/** The state and duties of a server while it leads a term: replication, commitment, reads, hand-over. */
export class Leader {
  private readonly peers = new Map<NodeId, Progress>();
  private readonly reads: ReadOnly;
  private heartbeatElapsed = 0;
  private quorumCheckElapsed = 0;
  private transfer: { to: NodeId; elapsed: number } | null = null;
  /** Once a TimeoutNow is out, the target may win an election at any moment: no lease for the rest of the term. */
  private leaseRevoked = false;
  /** Batched until the next Ready: entries appended, commit index advanced. */
  private entriesToSend = false;
  private commitToSend = false;
  /** The last index this server has persisted itself: it counts towards quorums only that far. */
  private persisted: number;
  /** Set when this server should stop leading (it was removed, or lost touch with a quorum). */
  resigned = false;

  constructor(private readonly host: LeaderHost) {
    this.reads = new ReadOnly(host.now);
    this.persisted = host.log.persistedIndex();
    this.syncPeers();
    this.append([{ type: EntryType.noop, data: new Uint8Array() }]);
  }

  get transferee(): NodeId | null {
    return this.transfer?.to ?? null;
  }

  /** One tick; `stalled` while catching up on ticks missed in a stall (no quorum check then). */
  tick(stalled = false): void {
    const { options } = this.host;
    this.heartbeatElapsed++;
    this.quorumCheckElapsed++;
    if (this.transfer && ++this.transfer.elapsed >= options.electionTicks) this.transfer = null;
    if (this.quorumCheckElapsed >= options.electionTicks) {
      this.quorumCheckElapsed = 0;
      if (options.checkQuorum && !stalled && !this.quorumActive()) {
        this.resigned = true;
        return;
      }
    }
    if (this.heartbeatElapsed >= options.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  propose(data: Uint8Array): Proposed {
    if (this.transfer) return { ok: false, reason: 'transferring' };
    const [entry] = this.append([{ type: EntryType.command, data }]);
    return { ok: true, index: entry!.index, term: entry!.term };
  }

  proposeMembershipChange(change: MembershipChange): Proposed {
    const { log, memberships } = this.host;
    if (this.transfer) return { ok: false, reason: 'transferring' };
    // One change at a time; and not before an entry of this term commits, or a change appended by an
    // earlier leader that never committed could combine with this one into two concurrent changes.
    if (memberships.currentIndex > log.committed || !this.committedInTerm()) {
      return { ok: false, reason: 'change-in-progress' };
    }
    const membership = applyChange(memberships.current, change);
    if (typeof membership === 'string') return { ok: false, reason: 'invalid', detail: membership };
    const [entry] = this.append([{ type: EntryType.membership, data: encodeMembership(membership) }]);
    return { ok: true, index: entry!.index, term: entry!.term };
  }

  readIndex(requestId: string): void {
    const { log, now } = this.host;
    this.reads.request(requestId, this.committedInTerm() ? log.committed : null, now);
    this.releaseConfirmedReads();
  }

  /** The commit index, if the lease lets this leader read its own state without asking a quorum. */
  leaseRead(): number | null {
    const { options, now, id, log } = this.host;
    if (!options.checkQuorum || this.leaseRevoked || !this.committedInTerm()) return null;
    const start = quorumValue(this.voters(), (peer) =>
      peer === id ? now : (this.peers.get(peer)?.ackedRoundStart ?? Number.NEGATIVE_INFINITY),
    );
    return now - start < options.leaseTicks ? log.committed : null;
  }

  transferLeadership(to: NodeId): Proposed {
    const { id, log, memberships } = this.host;
    if (to === id) return { ok: true, index: log.lastIndex(), term: this.host.term };
    if (!isVoter(memberships.current, to))
      return { ok: false, reason: 'invalid', detail: `${to} is not a voter` };
    if (this.transfer?.to !== to) {
      this.transfer = { to, elapsed: 0 };
      const progress = this.peers.get(to)!;
      if (progress.match === log.lastIndex()) this.sendTimeoutNow(to);
      else this.sendAppend(to, true);
    }
    return { ok: true, index: log.lastIndex(), term: this.host.term };
  }

  /** Judges the followers' contact over a full election period from now (after a stall). */
  restartQuorumCheck(): void {
    this.quorumCheckElapsed = 0;
  }

  onResponse(m: AppendResponse | HeartbeatResponse): void {
    const progress = this.peers.get(m.from);
    if (!progress) return;
    progress.lastContact = this.host.now;
    this.acknowledgeRound(progress, m.round);
    if (m.type === 'heartbeat-response') this.onHeartbeatResponse(m.from, progress, m.round);
    else if (m.success) this.onAppendAccepted(m.from, progress, m.index);
    else this.onAppendRejected(m.from, progress, m);
  }

  /** This server persisted its log up to `index`. */
  persistedTo(index: number): void {
    this.persisted = index;
    this.maybeCommit();
  }

  /** The driver finished (or failed) streaming a snapshot to `to`. */
  reportSnapshot(to: NodeId, delivered: boolean): void {
    const progress = this.peers.get(to);
    if (progress?.state !== 'snapshot') return;
    if (!delivered) progress.pendingSnapshot = 0;
    progress.becomeProbe();
    // Resume once a heartbeat shows the follower is there.
    progress.probeSent = true;
  }

  /** The driver could not reach `to`: appends in flight are presumed lost. */
  reportUnreachable(to: NodeId): void {
    const progress = this.peers.get(to);
    if (progress?.state === 'replicate') progress.becomeProbe();
  }

  /** Sends what was batched since the last Ready: new entries, the commit index, heartbeats for reads. */
  flush(): void {
    if (this.entriesToSend || this.commitToSend) {
      for (const id of this.peers.keys()) this.replicateTo(id, this.commitToSend);
      this.entriesToSend = false;
      this.commitToSend = false;
    }
    if (this.readsNeedBroadcast()) this.broadcastHeartbeat();
  }

  hasPendingFlush(): boolean {
    return this.entriesToSend || this.commitToSend || this.readsNeedBroadcast();
  }

  abortReads(): string[] {
    return this.reads.abort();
  }

  peerStatus(): PeerStatus[] {
    const { now, memberships } = this.host;
    return [...this.peers].map(([id, progress]) => ({
      id,
      voter: isVoter(memberships.current, id),
      match: progress.match,
      next: progress.next,
      state: progress.state,
      lastContactTicks: now - progress.lastContact,
    }));
  }

  private voters(): readonly NodeId[] {
    return this.host.memberships.current.voters;
  }

  private committedInTerm(): boolean {
    const { log, term } = this.host;
    return log.term(log.committed) === term;
  }

  private append(bodies: EntryBody[]): Entry[] {
    const { log, memberships, term } = this.host;
    const first = log.lastIndex() + 1;
    const entries = bodies.map((body, i) => ({ ...body, index: first + i, term }));
    log.append(entries);
    memberships.record(entries);
    if (entries.some((entry) => entry.type === EntryType.membership)) this.syncPeers();
    this.entriesToSend = true;
    return entries;
  }

  /** Tracks exactly the current members (a membership takes effect when appended). */
  private syncPeers(): void {
    const { id, memberships, log, now, options } = this.host;
    const members = membersOf(memberships.current).filter((member) => member !== id);
    for (const member of members) {
      if (!this.peers.has(member)) this.peers.set(member, new Progress(log.lastIndex() + 1, now, options));
    }
    for (const peer of this.peers.keys()) {
      if (!members.includes(peer)) this.peers.delete(peer);
    }
    if (this.transfer && !members.includes(this.transfer.to)) this.transfer = null;
  }

  private quorumActive(): boolean {
    const { id, now, options } = this.host;
    const lastContact = quorumValue(this.voters(), (peer) =>
      peer === id ? now : (this.peers.get(peer)?.lastContact ?? Number.NEGATIVE_INFINITY),
    );
    return now - lastContact <= options.electionTicks;
  }

  private maybeCommit(): void {
    const { id, log, term, memberships, now } = this.host;
    const index = quorumValue(this.voters(), (peer) =>
      peer === id ? this.persisted : (this.peers.get(peer)?.match ?? 0),
    );
    // Only entries of the current term commit by counting replicas; earlier ones commit with them.
    if (index <= log.committed || log.term(index) !== term) return;
    const firstInTerm = !this.committedInTerm();
    log.commitTo(index);
    this.commitToSend = true;
    if (firstInTerm) this.reads.committedInTerm(log.committed, now);
    this.releaseConfirmedReads();
    if (!isVoter(memberships.current, id) && log.committed >= memberships.currentIndex) this.resigned = true;
  }

  private acknowledgeRound(progress: Progress, round: number): void {
    if (round <= progress.ackedRound) return;
    progress.ackedRound = round;
    progress.ackedRoundStart = this.reads.startOf(round) ?? progress.ackedRoundStart;
    this.releaseConfirmedReads();
  }

  private releaseConfirmedReads(): void {
    const { id } = this.host;
    const confirmed = quorumValue(this.voters(), (peer) =>
      peer === id ? this.reads.current : (this.peers.get(peer)?.ackedRound ?? 0),
    );
    for (const state of this.reads.confirm(confirmed)) this.host.readReady(state);
  }

  private onAppendAccepted(from: NodeId, progress: Progress, index: number): void {
    const wasPaused = progress.isPaused();
    if (!progress.acknowledge(index)) {
      if (wasPaused) this.sendAppend(from, false);
      return;
    }
    if (progress.state === 'replicate') progress.inflights.freeTo(index);
    else if (progress.state === 'probe') progress.becomeReplicate();
    else if (progress.match >= progress.pendingSnapshot) progress.becomeReplicate();
    this.maybeCommit();
    if (this.transfer?.to === from && progress.match === this.host.log.lastIndex()) this.sendTimeoutNow(from);
    this.replicateTo(from, false);
  }

  private onAppendRejected(from: NodeId, progress: Progress, m: AppendResponse): void {
    const { log } = this.host;
    // Skip every entry of a term the follower does not have in one go (the hint names its last term).
    const nextProbe = m.hintTerm > 0 ? log.lastIndexWithTermAtMost(m.hintIndex, m.hintTerm) : m.hintIndex;
    if (progress.reject(m.index, nextProbe)) this.sendAppend(from, true);
  }

  private onHeartbeatResponse(from: NodeId, progress: Progress, round: number): void {
    // Only an answer to a heartbeat sent after the last append says that append's answer is lost. Older
    // ones arrive in floods when a partition heals (every heartbeat queued meanwhile is answered at once),
    // and each would send the same append again.
    if (round <= progress.lastAppendRound) return;
    // Resume a paused probe, and if every ack of a full window got lost, free a slot.
    progress.probeSent = false;
    if (progress.state === 'replicate' && progress.inflights.full()) progress.inflights.freeFirst();
    // An empty append makes a follower that lost the tail of the log reject, which restarts probing.
    if (progress.match < this.host.log.lastIndex()) this.sendAppend(from, true);
  }

  private readsNeedBroadcast(): boolean {
    return this.reads.needsBroadcast && !this.reads.awaitingAnswers;
  }

  private broadcastHeartbeat(): void {
    const { log, now } = this.host;
    this.reads.startRound(now);
    this.reads.needsBroadcast = false;
    for (const [to, progress] of this.peers) {
      const commit = Math.min(progress.match, log.committed);
      this.host.send({ type: 'heartbeat', to, commit, round: this.reads.stamp() });
    }
    if (this.peers.size > 0) this.reads.broadcast();
  }

  /** Sends as much as flow control allows; with `announceCommit`, an empty append if there is nothing new. */
  private replicateTo(to: NodeId, announceCommit: boolean): void {
    let sent = false;
    while (this.sendAppend(to, false)) sent = true;
    if (!sent && announceCommit) this.sendAppend(to, true);
  }

  /** Sends the next append (or the snapshot, if the entries are compacted). Returns whether entries went out. */
  private sendAppend(to: NodeId, evenIfEmpty: boolean): boolean {
    const { log, options } = this.host;
    const progress = this.peers.get(to)!;
    if (progress.isPaused()) return false;
    const prevIndex = progress.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) {
      this.sendSnapshot(to, progress);
      return false;
    }
    const entries = log.entries(progress.next, log.lastIndex() + 1, options.maxMessageBytes);
    if (entries.length === 0 && !evenIfEmpty) return false;
    const round = this.reads.stamp();
    this.host.send({ type: 'append', to, prevIndex, prevTerm, entries, commit: log.committed, round });
    const bytes = entries.reduce((sum, entry) => sum + entryBytes(entry), 0);
    progress.sent(round, prevIndex + entries.length, entries.length, bytes);
    return entries.length > 0;
  }

  private sendSnapshot(to: NodeId, progress: Progress): void {
    const meta = this.host.snapshot;
    this.host.send({ type: 'install-snapshot', to, meta, handle: '', round: this.reads.stamp() });
    progress.becomeSnapshot(meta.index);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.leaseRevoked = true;
    this.host.send({ type: 'timeout-now', to });
  }
}
