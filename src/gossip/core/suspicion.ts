import { remainingSuspicionTime } from './timing.ts';

/**
 * One suspect member's timer. It starts at `max` (or `min` when no confirmations are expected, k < 1) and
 * each independent confirmation — a suspect message about the same member from a member that had not
 * reported it yet — pulls the deadline toward `min`. The member that raised the suspicion never counts.
 */
export class Suspicion {
  /** Independent confirmations so far. */
  confirmations = 0;
  /** When the member is to be declared dead. */
  deadline: number;
  private readonly seen = new Set<string>();

  constructor(
    from: string,
    /** Confirmations that bring the timeout down to `min`. */
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    readonly start: number,
  ) {
    this.seen.add(from);
    this.deadline = start + (k < 1 ? minMs : maxMs);
  }

  /** Counts `from`'s confirmation; true if it was new (and so worth gossiping on). */
  confirm(from: string, now: number): boolean {
    if (this.confirmations >= this.k || this.seen.has(from)) return false;
    this.seen.add(from);
    this.confirmations++;
    const remaining = remainingSuspicionTime(
      this.confirmations,
      this.k,
      now - this.start,
      this.minMs,
      this.maxMs,
    );
    this.deadline = now + Math.max(0, remaining);
    return true;
  }
}
