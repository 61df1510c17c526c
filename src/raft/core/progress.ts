import { Inflights } from './inflights.ts';

/**
 * How the leader replicates to a follower. `probe`: one append at a time until the follower's log is found to
 * match; `replicate`: appends are pipelined, `next` advancing optimistically; `snapshot`: the follower is
 * behind the compacted log and the leader waits for a snapshot to reach it.
 */
export type ReplicationState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one follower: how far its log matches, what to send next, and when it last answered. */
export class Progress {
  match = 0;
  next: number;
  state: ReplicationState = 'probe';
  /** In probe state: an append is out; wait for its answer or a heartbeat's before sending another. */
  probeSent = false;
  /**
   * The heartbeat round stamped on the last append sent. A heartbeat answer from a later round shows the
   * follower got past that append (one connection keeps order), so a missing append answer was lost.
   */
  lastAppendRound = 0;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** The leader's tick when the follower last answered anything. */
  lastContact: number;
  /** The latest heartbeat round the follower answered, and the tick at which that round started. */
  ackedRound = 0;
  ackedRoundStart = Number.NEGATIVE_INFINITY;
  readonly inflights: Inflights;

  constructor(next: number, now: number, limits: { maxInflightMessages: number; maxInflightBytes: number }) {
    this.next = next;
    this.lastContact = now;
    this.inflights = new Inflights(limits.maxInflightMessages, limits.maxInflightBytes);
  }

  /** Whether the leader must hold off sending appends. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    // After a snapshot the follower is expected to hold everything up to it.
    this.next = Math.max(this.match + 1, this.state === 'snapshot' ? this.pendingSnapshot + 1 : 0);
    this.enter('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.enter('replicate');
  }

  becomeSnapshot(index: number): void {
    this.enter('snapshot');
    this.pendingSnapshot = index;
  }

  /** The follower's log matches up to `index`. False when that is old news. */
  acknowledge(index: number): boolean {
    this.next = Math.max(this.next, index + 1);
    if (index <= this.match) return false;
    this.match = index;
    this.probeSent = false;
    return true;
  }

  /**
   * The follower rejected an append whose previous entry was `rejected`; `nextProbe` is where the leader's
   * log suggests trying next. False when the rejection is stale (answers an append already superseded).
   */
  reject(rejected: number, nextProbe: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.becomeProbe();
    } else if (rejected !== this.next - 1) {
      return false;
    }
    this.next = Math.max(Math.min(rejected, nextProbe + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records an append stamped `round`, with entries up to `lastIndex` (`count` entries, `bytes` in size). */
  sent(round: number, lastIndex: number, count: number, bytes: number): void {
    this.lastAppendRound = round;
    if (this.state === 'replicate') {
      if (count === 0) return;
      this.inflights.add(lastIndex, bytes);
      this.next = lastIndex + 1;
    } else {
      this.probeSent = true;
    }
  }

  private enter(state: ReplicationState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
