import { type Entry, EntryType } from '../core/types.ts';

/**
 * The log index of the configuration in force, which /v1/operator/raft/configuration reports. A membership
 * takes effect when appended, and a follower's uncommitted tail can be cut off, so the indexes of the recent
 * membership entries are kept to fall back on.
 */
export class ConfigIndex {
  /** Ascending; the first is never dropped by a cut (it is committed, or the snapshot's). */
  private indexes: number[];

  constructor(base = 0) {
    this.indexes = [base];
  }

  get current(): number {
    return this.indexes.at(-1)!;
  }

  /** Entries were written from `entries[0].index` on, replacing whatever followed; `commit` is committed. */
  written(entries: readonly Entry[], commit: number): void {
    const first = entries[0];
    if (!first) return;
    while (this.indexes.length > 1 && this.indexes.at(-1)! >= first.index) this.indexes.pop();
    for (const entry of entries) {
      if (entry.type === EntryType.membership) this.indexes.push(entry.index);
    }
    // Only the latest committed one can still be fallen back on.
    while (this.indexes.length > 1 && this.indexes[1]! <= commit) this.indexes.shift();
  }

  /** A snapshot replaced the log through `index`. */
  reset(index: number): void {
    this.indexes = [index];
  }
}
