/** A ReadIndex answer: once the state machine has applied `index`, reading it is linearizable. */
export interface ReadState {
  requestId: string;
  index: number;
}

/**
 * Heartbeat rounds: how a leader proves it still leads. Every message the leader sends carries the current
 * round, and followers echo it. A quorum echoing round r means nobody else led when r started, which serves:
 * - ReadIndex: a read waits for a round that started after the read arrived (a later leader would have
 *   needed votes from that quorum, and they answered us instead), then reads at the commit index it noted;
 * - the lease: followers refuse votes for an election timeout after hearing from the leader, so once a
 *   quorum answered a round started at tick t, no other leader can exist before t + electionTicks.
 */
export class ReadOnly {
  private round = 1;
  /** Whether a message already carries the current round (reads arriving later need a fresh one). */
  private roundSent = false;
  private readonly roundStarts = new Map<number, number>();
  /** Reads with their index, in round order. */
  private pending: { requestId: string; index: number; round: number }[] = [];
  /** Reads that arrived before the leader committed an entry of its term: its commit index may be stale. */
  private awaitingCommit: string[] = [];
  /** Reads are waiting for a round that no message carries yet. */
  needsBroadcast = false;
  /**
   * The round of the last heartbeat broadcast until a quorum answers it. Reads arriving meanwhile wait for
   * the next broadcast, sent once this one is answered: one round in flight serves any number of reads,
   * where a round per read would cost every follower a message and an answer each.
   */
  private inFlight: number | null = null;

  constructor(now: number) {
    this.roundStarts.set(this.round, now);
  }

  get current(): number {
    return this.round;
  }

  /** The round for an outgoing message. */
  stamp(): number {
    this.roundSent = true;
    return this.round;
  }

  /** Starts a new round unless no message carries the current one yet (then it is as good as new). */
  startRound(now: number): void {
    if (!this.roundSent) return;
    this.round++;
    this.roundSent = false;
    this.roundStarts.set(this.round, now);
  }

  /** A heartbeat carrying the current round went to every follower. */
  broadcast(): void {
    this.inFlight = this.round;
  }

  /** Whether a broadcast round is still unanswered, so reads needing a new one wait for it. */
  get awaitingAnswers(): boolean {
    return this.inFlight !== null;
  }

  startOf(round: number): number | undefined {
    return this.roundStarts.get(round);
  }

  /** A read arrived; `commit` is the commit index, or null while no entry of the term is committed. */
  request(requestId: string, commit: number | null, now: number): void {
    if (commit === null) {
      this.awaitingCommit.push(requestId);
      return;
    }
    this.startRound(now);
    this.pending.push({ requestId, index: commit, round: this.round });
    this.needsBroadcast = true;
  }

  /** The leader committed its first entry of the term: reads held back can now be served. */
  committedInTerm(commit: number, now: number): void {
    const held = this.awaitingCommit;
    this.awaitingCommit = [];
    for (const requestId of held) this.request(requestId, commit, now);
  }

  /** A quorum has answered `round`: releases the reads that were waiting for it, and forgets older rounds. */
  confirm(round: number): ReadState[] {
    if (this.inFlight !== null && round >= this.inFlight) this.inFlight = null;
    let released = 0;
    while (released < this.pending.length && this.pending[released]!.round <= round) released++;
    const ready = this.pending.splice(0, released).map(({ requestId, index }) => ({ requestId, index }));
    for (const known of this.roundStarts.keys()) {
      if (known < round) this.roundStarts.delete(known);
    }
    return ready;
  }

  /** Leadership is lost: every read still waiting fails. */
  abort(): string[] {
    const aborted = [...this.pending.map((read) => read.requestId), ...this.awaitingCommit];
    this.pending = [];
    this.awaitingCommit = [];
    return aborted;
  }
}
