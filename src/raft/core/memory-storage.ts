import type { LogView } from './log.ts';
import { takeWithin } from './log.ts';
import type { Entry, Membership, SnapshotMeta } from './types.ts';

const noMembers: Membership = { voters: [], learners: [] };

/** An in-memory log store: what the LMDB store does, for tests and the simulator. */
export class MemoryStorage implements LogView {
  /** The entry just before `entries[0]`: the compaction point. */
  private base: { index: number; term: number };
  private entryList: Entry[];
  private snapshot: SnapshotMeta;

  constructor(entries: Entry[] = [], snapshot: SnapshotMeta = { index: 0, term: 0, membership: noMembers }) {
    this.snapshot = snapshot;
    this.base = { index: snapshot.index, term: snapshot.term };
    this.entryList = [];
    this.append(entries);
  }

  firstIndex(): number {
    return this.base.index + 1;
  }

  lastIndex(): number {
    return this.base.index + this.entryList.length;
  }

  term(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    return this.entryList[index - this.base.index - 1]?.term;
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

  snapshotMeta(): SnapshotMeta {
    return this.snapshot;
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

  /** Records a snapshot taken locally and drops the entries before `keepFrom` (at most the snapshot's index + 1). */
  compact(snapshot: SnapshotMeta, keepFrom: number): void {
    if (snapshot.index > this.lastIndex()) throw new Error(`snapshot ${snapshot.index} is beyond the log`);
    this.snapshot = snapshot;
    const newBase = Math.min(keepFrom - 1, snapshot.index);
    if (newBase <= this.base.index) return;
    const dropped = newBase - this.base.index;
    this.base = { index: newBase, term: this.term(newBase)! };
    this.entryList = this.entryList.slice(dropped);
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  installSnapshot(snapshot: SnapshotMeta): void {
    this.snapshot = snapshot;
    this.base = { index: snapshot.index, term: snapshot.term };
    this.entryList = [];
  }

  clone(): MemoryStorage {
    const copy = new MemoryStorage([], this.snapshot);
    copy.base = { ...this.base };
    copy.entryList = [...this.entryList];
    return copy;
  }
}
