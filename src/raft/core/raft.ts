import { type RaftOptions, resolveOptions } from './config.ts';
import { Leader, type LeaderHost, type PeerStatus, type Proposed } from './leader.ts';
import { type LogView, RaftLog } from './log.ts';
import { isVoter, type MembershipChange, MembershipHistory } from './membership.ts';
import {
  type AppendRequest,
  fromLeader,
  type Heartbeat,
  type InstallSnapshot,
  type Message,
  type Outgoing,
  type VoteRequest,
  type VoteResponse,
} from './messages.ts';
import type { Random } from './prng.ts';
import { tally } from './quorum.ts';
import type { ReadState } from './read-only.ts';
import type { HardState, NodeId, Role, SnapshotMeta } from './types.ts';

export interface RaftInit {
  id: NodeId;
  /** The persisted log, read through this view for the life of the server. */
  storage: LogView;
  /** The persisted hard state (all zeroes and null for a new server). */
  hardState: HardState;
  /** The latest durable snapshot (the state machine restores from it); omitted when there is none. */
  snapshot?: SnapshotMeta;
  options?: Partial<RaftOptions>;
  random: Random;
  /** The last index the state machine already holds; by default that of the latest snapshot, restored at start. */
  applied?: number;
}

const noSnapshot: SnapshotMeta = { index: 0, term: 0, membership: { voters: [], learners: [] } };

/**
 * The Raft protocol for one server, without I/O: elections (with pre-vote and leases), the follower's side of
 * replication, and, through `Leader`, the leader's. Driven by `RaftNode`, which turns its effects into Readys.
 */
export class Raft implements LeaderHost {
  readonly id: NodeId;
  readonly options: RaftOptions;
  readonly log: RaftLog;
  readonly memberships: MembershipHistory;
  term: number;
  vote: NodeId | null;
  /** The latest snapshot stored on this server. */
  snapshot: SnapshotMeta;
  role: Role = 'follower';
  leaderId: NodeId | null = null;
  /** Ticks since start: the clock for contact times and the lease. */
  now = 0;
  /** Outputs collected until the next Ready. */
  messages: Message[] = [];
  readStates: ReadState[] = [];
  abortedReads: string[] = [];

  private readonly random: Random;
  private electionElapsed = 0;
  private electionTimeout = 0;
  /**
   * Ticks since a leader was last heard from. While below electionTicks (and check-quorum is on) this server
   * refuses to vote, which is what makes the leader's lease sound. It starts at zero after a restart: the
   * server may have heard from a leader just before it crashed.
   */
  private sinceLeaderHeard: number;
  private readonly votes = new Map<NodeId, boolean>();
  private leader: Leader | null = null;

  constructor(init: RaftInit) {
    const { storage, hardState } = init;
    this.id = init.id;
    this.options = resolveOptions(init.options);
    this.random = init.random;
    this.term = hardState.term;
    this.vote = hardState.vote;
    const snapshot = init.snapshot ?? noSnapshot;
    if (snapshot.index < storage.firstIndex() - 1) {
      throw new Error(`the log is compacted past the latest snapshot (${snapshot.index})`);
    }
    this.snapshot = snapshot;
    const applied = init.applied ?? snapshot.index;
    const committed = Math.max(hardState.commit, applied);
    if (committed > storage.lastIndex()) {
      throw new Error(
        `commit index ${committed} is beyond the stored log (last index ${storage.lastIndex()})`,
      );
    }
    this.log = new RaftLog(storage, committed, applied);
    this.memberships = new MembershipHistory(snapshot.index, snapshot.membership);
    for (let lo = snapshot.index + 1; lo <= storage.lastIndex(); ) {
      const batch = storage.entries(lo, storage.lastIndex() + 1, this.options.maxMessageBytes);
      this.memberships.record(batch);
      lo += batch.length;
    }
    this.sinceLeaderHeard = this.term > 0 ? 0 : this.options.electionTicks;
    this.becomeFollower(this.term, null);
  }

  get hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** Only voters of the membership in this server's log stand for election. */
  get promotable(): boolean {
    return isVoter(this.memberships.current, this.id);
  }

  get transferee(): NodeId | null {
    return this.leader?.transferee ?? null;
  }

  /**
   * Advances time by `count` ticks. Ticks that arrive together are time this process spent stalled (a GC
   * pause, a starved CPU) while the followers' answers waited in its sockets: a leader does not step down
   * for that silence, it judges the followers over a full period from now.
   */
  tick(count = 1): void {
    const stalled = count > 1 && this.leader !== null;
    for (let i = 0; i < count; i++) this.tickOnce(stalled);
    if (stalled) this.leader?.restartQuorumCheck();
  }

  private tickOnce(stalled: boolean): void {
    this.now++;
    if (this.leader) {
      this.lead((leader) => leader.tick(stalled));
      return;
    }
    this.electionElapsed++;
    this.sinceLeaderHeard++;
    if (this.promotable && this.electionElapsed >= this.electionTimeout) this.campaign(false);
  }

  step(m: Message): void {
    if (m.term > this.term) {
      const isVoteRequest = m.type === 'vote' || m.type === 'pre-vote';
      // A server that heard from a leader within the election timeout ignores candidates: this stops a
      // server cut off from the cluster from deposing a healthy leader, and keeps the leader's lease valid.
      if (isVoteRequest && !m.transfer && this.inLease()) return;
      // A pre-vote (or a grant of one) is about a term nobody has entered yet.
      const hypothetical = m.type === 'pre-vote' || (m.type === 'pre-vote-response' && m.granted);
      if (!hypothetical) this.becomeFollower(m.term, fromLeader(m) ? m.from : null);
    } else if (m.term < this.term) {
      this.answerStale(m);
      return;
    }
    switch (m.type) {
      case 'vote':
      case 'pre-vote':
        this.onVoteRequest(m);
        return;
      case 'vote-response':
      case 'pre-vote-response':
        this.onVoteResponse(m);
        return;
      case 'append':
      case 'heartbeat':
      case 'install-snapshot':
        this.onLeaderMessage(m);
        return;
      case 'append-response':
      case 'heartbeat-response':
        this.lead((leader) => leader.onResponse(m));
        return;
      case 'timeout-now':
        if (this.role !== 'leader') this.campaign(true);
        return;
    }
  }

  propose(data: Uint8Array): Proposed {
    return this.lead((leader) => leader.propose(data)) ?? this.notLeader();
  }

  proposeMembershipChange(change: MembershipChange): Proposed {
    return this.lead((leader) => leader.proposeMembershipChange(change)) ?? this.notLeader();
  }

  transferLeadership(to: NodeId): Proposed {
    return this.lead((leader) => leader.transferLeadership(to)) ?? this.notLeader();
  }

  /** False when this server does not lead (the caller forwards the read to the leader). */
  readIndex(requestId: string): boolean {
    return this.lead((leader) => leader.readIndex(requestId)) !== null;
  }

  leaseRead(): number | null {
    return this.leader?.leaseRead() ?? null;
  }

  reportSnapshot(to: NodeId, delivered: boolean): void {
    this.leader?.reportSnapshot(to, delivered);
  }

  reportUnreachable(to: NodeId): void {
    this.leader?.reportUnreachable(to);
  }

  peerStatus(): PeerStatus[] {
    return this.leader?.peerStatus() ?? [];
  }

  /** Sends what the leader batched; called when a Ready is taken. */
  flush(): void {
    this.leader?.flush();
  }

  hasPendingFlush(): boolean {
    return this.leader?.hasPendingFlush() ?? false;
  }

  /** The driver persisted everything up to the log's persisted index. */
  persisted(): void {
    this.lead((leader) => leader.persistedTo(this.log.persistedIndex()));
  }

  send(message: Outgoing, term = this.term): void {
    this.messages.push({ ...message, from: this.id, term } as Message);
  }

  readReady(state: ReadState): void {
    this.readStates.push(state);
  }

  /** Runs `action` on the leader, if this server leads; then steps down if the leader resigned. */
  private lead<T>(action: (leader: Leader) => T): T | null {
    if (!this.leader) return null;
    const result = action(this.leader);
    if (this.leader.resigned) this.becomeFollower(this.term, null);
    return result;
  }

  private notLeader(): Proposed {
    return { ok: false, reason: 'not-leader', leader: this.leaderId };
  }

  private inLease(): boolean {
    if (!this.options.checkQuorum) return false;
    return this.role === 'leader' || this.sinceLeaderHeard < this.options.electionTicks;
  }

  private becomeFollower(term: number, leaderId: NodeId | null): void {
    if (this.leader) {
      this.abortedReads.push(...this.leader.abortReads());
      this.leader = null;
    }
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.role = 'follower';
    this.leaderId = leaderId;
    this.resetElection();
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.leaderId = this.id;
    this.leader = new Leader(this);
  }

  private resetElection(): void {
    this.votes.clear();
    this.electionElapsed = 0;
    const { electionTicks, electionMaxTicks } = this.options;
    this.electionTimeout = electionTicks + this.random.int(electionMaxTicks - electionTicks);
  }

  /** Starts an election: a pre-vote first unless asked to by the leader (transfer), or pre-vote is off. */
  private campaign(transfer: boolean): void {
    if (!this.promotable) return;
    if (this.options.preVote && !transfer) this.solicit('pre-vote', transfer);
    else this.solicit('vote', transfer);
  }

  private solicit(type: 'vote' | 'pre-vote', transfer: boolean): void {
    if (type === 'pre-vote') {
      this.role = 'pre-candidate';
    } else {
      this.term++;
      this.vote = this.id;
      this.role = 'candidate';
    }
    this.leaderId = null;
    this.resetElection();
    this.votes.set(this.id, true);
    if (tally(this.memberships.current.voters, this.votes) === 'won') {
      this.electionWon(type, transfer);
      return;
    }
    const term = type === 'pre-vote' ? this.term + 1 : this.term;
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const to of this.memberships.current.voters) {
      if (to !== this.id) this.send({ type, to, lastLogIndex, lastLogTerm, transfer }, term);
    }
  }

  private electionWon(type: 'vote' | 'pre-vote', transfer: boolean): void {
    if (type === 'pre-vote') this.solicit('vote', transfer);
    else this.becomeLeader();
  }

  private onVoteRequest(m: VoteRequest): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leaderId === null) ||
      (m.type === 'pre-vote' && m.term > this.term);
    const granted = canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    const type = m.type === 'vote' ? 'vote-response' : 'pre-vote-response';
    this.send({ type, to: m.from, granted }, granted ? m.term : this.term);
    if (granted && m.type === 'vote') {
      this.vote = m.from;
      this.electionElapsed = 0;
    }
  }

  private onVoteResponse(m: VoteResponse): void {
    const awaited = this.role === 'pre-candidate' ? 'pre-vote-response' : 'vote-response';
    if (m.type !== awaited || (this.role !== 'pre-candidate' && this.role !== 'candidate')) return;
    if (m.type === 'pre-vote-response' && m.granted && m.term !== this.term + 1) return;
    this.votes.set(m.from, m.granted);
    const outcome = tally(this.memberships.current.voters, this.votes);
    const type = m.type === 'vote-response' ? 'vote' : 'pre-vote';
    if (outcome === 'won') this.electionWon(type, false);
    else if (outcome === 'lost') this.becomeFollower(this.term, null);
  }

  /** Tells a leader of a past term that it is one, so it steps down; tells a pre-candidate it is behind. */
  private answerStale(m: Message): void {
    if (fromLeader(m)) {
      this.answerAppend(m.from, 0, false, 0);
    } else if (m.type === 'pre-vote') {
      this.send({ type: 'pre-vote-response', to: m.from, granted: false });
    }
  }

  private onLeaderMessage(m: AppendRequest | Heartbeat | InstallSnapshot): void {
    if (this.role === 'leader') return; // cannot happen: one leader per term
    if (this.role !== 'follower' || this.leaderId !== m.from) this.becomeFollower(this.term, m.from);
    this.electionElapsed = 0;
    this.sinceLeaderHeard = 0;
    if (m.type === 'append') this.onAppend(m);
    else if (m.type === 'heartbeat') this.onHeartbeat(m);
    else this.onInstallSnapshot(m);
  }

  private onAppend(m: AppendRequest): void {
    const { log } = this;
    // Everything up to the commit index already matches the leader's log.
    if (m.prevIndex < log.committed) {
      this.answerAppend(m.from, m.round, true, log.committed);
      return;
    }
    const written = log.tryAppend(m.prevIndex, m.prevTerm, m.entries);
    if (written === null) {
      const hintIndex = log.lastIndexWithTermAtMost(Math.min(m.prevIndex, log.lastIndex()), m.prevTerm);
      const hintTerm = log.term(hintIndex) ?? 0;
      this.answerAppend(m.from, m.round, false, m.prevIndex, hintIndex, hintTerm);
      return;
    }
    this.memberships.record(written);
    const lastNew = m.prevIndex + m.entries.length;
    log.commitTo(Math.min(m.commit, lastNew));
    this.answerAppend(m.from, m.round, true, lastNew);
  }

  private onHeartbeat(m: Heartbeat): void {
    // The leader sends at most what it knows this log matches, so this commit index is safe to adopt.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeat-response', to: m.from, round: m.round });
  }

  private onInstallSnapshot(m: InstallSnapshot): void {
    const { log } = this;
    const { meta } = m;
    let matched = log.committed;
    if (meta.index > log.committed) {
      matched = meta.index;
      if (log.matchTerm(meta.index, meta.term)) {
        // The log already holds the snapshot's entries: just commit them.
        log.commitTo(meta.index);
      } else {
        this.memberships.restore(meta.index, meta.membership, log.committed);
        log.restore({ meta, handle: m.handle });
      }
    }
    this.answerAppend(m.from, m.round, true, matched);
  }

  private answerAppend(
    to: NodeId,
    round: number,
    success: boolean,
    index: number,
    hintIndex = 0,
    hintTerm = 0,
  ): void {
    this.send({ type: 'append-response', to, success, index, hintIndex, hintTerm, round });
  }
}
