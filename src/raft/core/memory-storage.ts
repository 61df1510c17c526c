import type { LogView } from './log.ts';
import { takeWithin } from './log.ts';
import type { Entry } from './types.ts';

/** Where the compacted prefix of a log ends. */
export interface CompactionPoint {
  index: number;
  term: number;
}

/** An in-memory log store with the LMDB store's operations, for tests and the simulator. */
export class MemoryStorage implements LogView {
  private base: CompactionPoint;
  private entryList: Entry[] = [];

  constructor(entries: Entry[] = [], base: CompactionPoint = { index: 0, term: 0 }) {
    this.base = { ...base };
    this.append(entries);
  }

  firstIndex(): number {
    return this.base.index + 1;
  }

  lastIndex(): number {
    return this.base.index + this.entryList.length;
  }

  term(index: number): number {
    if (index === this.base.index) return this.base.term;
    const entry = this.entryList[index - this.base.index - 1];
    if (!entry)
      throw new Error(`no term for ${index}: the log holds [${this.firstIndex()}, ${this.lastIndex()}]`);
    return entry.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo <= this.base.index || hi > this.lastIndex() + 1) {
      throw new Error(
        `entries [${lo}, ${hi}) are outside the stored log [${this.firstIndex()}, ${this.lastIndex()}]`,
      );
    }
    const from = lo - this.base.index - 1;
    return takeWithin(this.entryList.slice(from, from + (hi - lo)), maxBytes);
  }

  /** Writes `entries`, dropping whatever followed `entries[0].index - 1`. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    if (first.index <= this.base.index || first.index > this.lastIndex() + 1) {
      throw new Error(
        `append at ${first.index} does not fit the stored log [${this.firstIndex()}, ${this.lastIndex()}]`,
      );
    }
    this.entryList.length = first.index - this.base.index - 1;
    this.entryList.push(...entries);
  }

  /** Drops the entries up to and including `index`, which a snapshot covers. */
  compact(index: number): void {
    if (index <= this.base.index) return;
    if (index > this.lastIndex())
      throw new Error(`cannot compact to ${index}: the log ends at ${this.lastIndex()}`);
    const term = this.term(index);
    this.entryList = this.entryList.slice(index - this.base.index);
    this.base = { index, term };
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  installSnapshot(point: CompactionPoint): void {
    this.base = { ...point };
    this.entryList = [];
  }

  clone(): MemoryStorage {
    const copy = new MemoryStorage([], this.base);
    copy.entryList = [...this.entryList];
    return copy;
  }
}
