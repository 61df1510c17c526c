import { type Entry, entryBytes, type SnapshotMeta } from './types.ts';

/**
 * The persisted log as the core reads it, in etcd's terms. Implemented in memory (`MemoryStorage`) for tests
 * and the simulator, and over LMDB by the storage layer; the core never writes through it (writes leave in
 * `Ready`), and it must reflect a write once the driver calls `advance()`.
 */
export interface LogView {
  /** Index of the first entry still held; `firstIndex() - 1` is the compaction point, whose term is known. */
  firstIndex(): number;
  /** Index of the last entry (the compaction point when the log is empty). */
  lastIndex(): number;
  /** Term of the entry at `index`; only asked for `firstIndex() - 1 <= index <= lastIndex()`. */
  term(index: number): number;
  /** Entries in [lo, hi), stopping before their size passes `maxBytes` (but always at least one). */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
}

/** A snapshot received from the leader and not yet installed by the driver. */
export interface IncomingSnapshot {
  meta: SnapshotMeta;
  handle: string;
}

/** The longest prefix of `source` whose size fits in `budget` bytes, but never empty when `source` is not. */
export function takeWithin(source: readonly Entry[], budget: number): Entry[] {
  let bytes = 0;
  let count = 0;
  for (const entry of source) {
    bytes += entryBytes(entry);
    if (count > 0 && bytes > budget) break;
    count++;
  }
  return count === source.length ? [...source] : source.slice(0, count);
}

/**
 * The log as the core sees it: the persisted view plus what is not yet persisted (entries appended since the
 * last Ready, or a snapshot received from the leader), and the commit and apply positions.
 */
export class RaftLog {
  committed: number;
  applied: number;
  /** Not-yet-persisted entries; `unstable[0]` has index `offset`, and they shadow the stored log from there. */
  private unstable: Entry[] = [];
  private offset: number;
  private pendingSnapshot: IncomingSnapshot | null = null;

  constructor(
    private readonly storage: LogView,
    committed: number,
    applied: number,
  ) {
    this.offset = storage.lastIndex() + 1;
    this.committed = committed;
    this.applied = applied;
  }

  firstIndex(): number {
    return this.pendingSnapshot ? this.pendingSnapshot.meta.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    const last = this.unstable.at(-1);
    if (last) return last.index;
    return this.pendingSnapshot ? this.pendingSnapshot.meta.index : this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  /** Last index known to be persisted: everything the driver confirmed through `advance()`. */
  persistedIndex(): number {
    return this.pendingSnapshot ? this.pendingSnapshot.meta.index : this.offset - 1;
  }

  term(index: number): number | undefined {
    if (index >= this.offset) return this.unstable[index - this.offset]?.term;
    if (this.pendingSnapshot) {
      return index === this.pendingSnapshot.meta.index ? this.pendingSnapshot.meta.term : undefined;
    }
    return index >= this.storage.firstIndex() - 1 ? this.storage.term(index) : undefined;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Entries in [lo, hi) within `maxBytes` (at least one). `lo` must not be compacted. */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex())
      throw new Error(`entries from ${lo} are compacted (first is ${this.firstIndex()})`);
    if (hi > this.lastIndex() + 1)
      throw new Error(`entries up to ${hi - 1} are beyond the log (${this.lastIndex()})`);
    const stableEnd = Math.min(hi, this.offset);
    const stable = lo < stableEnd ? this.storage.entries(lo, stableEnd, maxBytes) : [];
    // Storage stopped early: the byte limit is reached.
    if (stable.length > 0 && lo + stable.length < stableEnd) return stable;
    const unstable =
      hi > this.offset ? this.unstable.slice(Math.max(lo, this.offset) - this.offset, hi - this.offset) : [];
    return takeWithin([...stable, ...unstable], maxBytes);
  }

  /** Appends `entries`, replacing whatever the log holds from `entries[0].index` on. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    if (first.index <= this.committed) {
      throw new Error(`refusing to overwrite committed entry ${first.index} (commit ${this.committed})`);
    }
    if (first.index > this.lastIndex() + 1) throw new Error(`gap before entry ${first.index}`);
    if (first.index <= this.offset) {
      // Replaces stored entries too: the next Ready writes from here and storage truncates.
      this.offset = first.index;
      this.unstable = [...entries];
    } else {
      this.unstable = [...this.unstable.slice(0, first.index - this.offset), ...entries];
    }
  }

  /**
   * A follower's append: if the log holds `prevIndex` at `prevTerm`, writes the entries that are new or
   * conflict (dropping the log's tail from the first conflict) and returns them; else returns null.
   */
  tryAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): Entry[] | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const firstNew = entries.findIndex((entry) => !this.matchTerm(entry.index, entry.term));
    if (firstNew < 0) return [];
    const written = entries.slice(firstNew);
    this.append(written);
    return written;
  }

  /** Largest index at or before `index` whose term is at most `term` (the compaction point at the lowest). */
  lastIndexWithTermAtMost(index: number, term: number): number {
    const floor = this.firstIndex() - 1;
    for (let i = Math.min(index, this.lastIndex()); i > floor; i--) {
      if (this.term(i)! <= term) return i;
    }
    return floor;
  }

  /** Raft's election restriction: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex())
      throw new Error(`commit ${index} is beyond the last index ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index > this.committed)
      throw new Error(`applied ${index} is beyond the commit index ${this.committed}`);
    this.applied = Math.max(this.applied, index);
  }

  /** Replaces the whole log with a snapshot from the leader; it is installed through the next Ready. */
  restore(snapshot: IncomingSnapshot): void {
    this.pendingSnapshot = snapshot;
    this.unstable = [];
    this.offset = snapshot.meta.index + 1;
    this.committed = snapshot.meta.index;
  }

  unstableEntries(): Entry[] {
    return [...this.unstable];
  }

  hasUnstableEntries(): boolean {
    return this.unstable.length > 0;
  }

  incomingSnapshot(): IncomingSnapshot | null {
    return this.pendingSnapshot;
  }

  /** Committed entries not yet handed to the application, up to `maxBytes`. */
  committedToApply(maxBytes: number): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    return this.entries(lo, this.committed + 1, maxBytes);
  }

  hasCommittedToApply(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** The driver persisted entries up to (index, term); unless they were replaced meanwhile, they are stable. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.term(index) !== term) return;
    this.unstable = this.unstable.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  /** The driver installed the snapshot at `index`; storage now reads from it. */
  snapshotInstalled(index: number): void {
    if (this.pendingSnapshot?.meta.index === index) this.pendingSnapshot = null;
  }
}
