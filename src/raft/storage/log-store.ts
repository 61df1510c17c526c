import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Database, open, type RootDatabase, type Transaction } from 'lmdb';
import { describe, requireCount } from './checks.ts';
import { decodeEntry, encodeEntry, entryTerm } from './entry-codec.ts';
import { CompactedError, StorageError, UnavailableError } from './errors.ts';
import { fsyncDirSync } from './fsync.ts';
import { type CommitStats, GroupCommit } from './group-commit.ts';
import {
  checkHardState,
  checkSnapshotPoint,
  decodeRecord,
  encodeRecord,
  INITIAL_HARD_STATE,
  INITIAL_SNAPSHOT_POINT,
} from './stable-codec.ts';
import type { HardState, LogEntry, LogView, SnapshotPoint } from './types.ts';

// The Raft log and hard state in LMDB, the role BoltDB plays for Consul: `<dir>/raft.lmdb`, with the entries
// in one sub-database (keyed by index; lmdb-js's ordered-binary number keys sort numerically) and the hard
// state and snapshot point in another.
//
// Reads are synchronous and see only durable state. Writes are checked and applied to an in-memory picture
// of the log at once (so the next write is checked against everything submitted before it), queued, and
// group-committed: each commit is one LMDB transaction, and a write's promise resolves after its commit has
// been fsynced.

const FILE_NAME = 'raft.lmdb';
const HARD_STATE_KEY = 'hard-state';
const SNAPSHOT_POINT_KEY = 'snapshot-point';

/** Where the log stands. Never mutated: each write makes a new one. */
interface LogState {
  snapshot: SnapshotPoint;
  lastIndex: number;
  hardState: HardState;
}

/** LMDB write instructions for one accepted write; run inside the batch of the commit that carries it. */
type WriteJob = () => void;

// lmdb-js honours read options on getBinaryFast (which reads without copying); its typings leave them out.
type FastGet = (key: number, options: { transaction: Transaction }) => Uint8Array | undefined;

export class LogStore implements LogView {
  /** After every durable write: what reads see. */
  private durable: LogState;
  /** After every accepted write: what new writes are checked against. */
  private working: LogState;
  /** Terms of entries written since `durable`, by commit: queued for the next one, or in the one in flight. */
  private queuedTerms = new Map<number, number>();
  private flushingTerms = new Map<number, number>();
  /** The read transaction pinned at the last durable commit, so reads never run ahead of `durable`. */
  private reader: Transaction;
  private readonly commits: GroupCommit<WriteJob>;
  private closed = false;

  private constructor(
    private readonly root: RootDatabase,
    private readonly log: Database<Uint8Array, number>,
    private readonly stable: Database<Uint8Array, string>,
    private readonly path: string,
  ) {
    this.reader = root.useReadTransaction();
    this.durable = this.working = this.load();
    this.commits = new GroupCommit((jobs) => this.commit(jobs));
  }

  /** Opens (creating if needed) the log under `dir`, normally `<data-dir>/raft`. */
  static open(dir: string): LogStore {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, FILE_NAME);
    const root = open({
      path,
      noSubdir: true,
      maxDbs: 2,
      // A resolved write must be on disk. With overlappingSync off, an LMDB commit writes the pages,
      // fdatasyncs, and writes the meta page through an O_DSYNC descriptor before it returns, and lmdb-js
      // resolves the write only then. With overlappingSync on (lmdb-js's default on Linux) writes resolve
      // when the commit is visible and the flush follows later, so an acknowledged entry could be lost to a
      // power cut.
      overlappingSync: false,
      // Never trade durability for speed: noSync skips the fsync, noMetaSync the meta page's sync (the last
      // commits could roll back after an OS crash).
      noSync: false,
      noMetaSync: false,
      // GroupCommit does the batching: writes that arrive during an fsync already wait for the next commit,
      // so a commit timer would only add latency.
      commitDelay: 0,
    });
    try {
      const log = root.openDB<Uint8Array, number>({ name: 'entries', encoding: 'binary' });
      const stable = root.openDB<Uint8Array, string>({ name: 'stable', encoding: 'binary' });
      const store = new LogStore(root, log, stable, path);
      fsyncDirSync(dir);
      fsyncDirSync(dirname(dir));
      return store;
    } catch (err) {
      void root.close();
      throw err;
    }
  }

  // --- synchronous reads of the durable log ---

  firstIndex(): number {
    return this.durable.snapshot.index + 1;
  }

  lastIndex(): number {
    return this.durable.lastIndex;
  }

  term(index: number): number {
    requireCount(index, 'index');
    const { snapshot, lastIndex } = this.durable;
    if (index === snapshot.index) return snapshot.term;
    if (index < snapshot.index) {
      throw new CompactedError(`term of ${index}: compacted (the log starts at ${snapshot.index + 1})`);
    }
    if (index > lastIndex) throw new UnavailableError(`term of ${index}: the log ends at ${lastIndex}`);
    return this.storedTerm(index);
  }

  /** Entries `[lo, hi)`, stopping before the total stored size would pass `maxBytes` (but never empty-handed). */
  entries(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): LogEntry[] {
    requireCount(lo, 'lo');
    requireCount(hi, 'hi');
    if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes < 0) {
      throw new StorageError(`maxBytes must be a non-negative number, got ${describe(maxBytes)}`);
    }
    if (lo > hi) throw new StorageError(`entries [${lo}, ${hi}): lo is past hi`);
    const first = this.firstIndex();
    const last = this.lastIndex();
    if (lo < first) throw new CompactedError(`entries from ${lo}: compacted (the log starts at ${first})`);
    if (hi > last + 1) throw new UnavailableError(`entries up to ${hi - 1}: the log ends at ${last}`);

    const out: LogEntry[] = [];
    let bytes = 0;
    for (const { key, value } of this.log.getRange({ start: lo, end: hi, transaction: this.reader })) {
      const expected = lo + out.length;
      if (key !== expected) throw this.missing(expected);
      bytes += value.length;
      if (out.length > 0 && bytes > maxBytes) return out;
      out.push(decodeEntry(key, value));
    }
    if (lo + out.length < hi) throw this.missing(lo + out.length);
    return out;
  }

  hardState(): HardState {
    return this.durable.hardState;
  }

  /** Where the compacted prefix ends: `term(snapshotPoint().index)` still answers. */
  snapshotPoint(): SnapshotPoint {
    return this.durable.snapshot;
  }

  /** Writes submitted and commits that carried them, to see group commit at work. */
  commitStats(): CommitStats {
    return { ...this.commits.stats };
  }

  // --- durable writes ---

  /**
   * Appends consecutive entries. If the first one lands inside the log, the log is cut there first (Raft's
   * conflicting suffix); cutting into entries at or below the stored commit index is refused.
   */
  append(entries: readonly LogEntry[]): Promise<void> {
    return this.submit(() => {
      const state = this.working;
      const first = entries[0];
      if (first === undefined) throw new StorageError('append needs at least one entry');
      requireCount(first.index, 'entry index');
      if (first.index <= state.snapshot.index) {
        throw new CompactedError(
          `append at ${first.index}: compacted (the log starts at ${state.snapshot.index + 1})`,
        );
      }
      if (first.index > state.lastIndex + 1) {
        throw new StorageError(
          `append at ${first.index} would leave a gap: the log ends at ${state.lastIndex}`,
        );
      }
      if (first.index <= state.lastIndex && first.index <= state.hardState.commit) {
        throw new StorageError(
          `append at ${first.index} would overwrite committed entries (commit index ${state.hardState.commit})`,
        );
      }
      const encoded = encodeBatch(entries, this.workingTerm(first.index - 1));
      const last = first.index + entries.length - 1;
      const staleLast = state.lastIndex;
      this.working = { ...state, lastIndex: last };
      for (const entry of entries) this.queuedTerms.set(entry.index, entry.term);
      return () => {
        for (let index = last + 1; index <= staleLast; index++) void this.log.remove(index);
        encoded.forEach((bytes, offset) => void this.log.put(first.index + offset, bytes));
      };
    });
  }

  /** Stores term, vote and commit index. The term never goes backwards. */
  setHardState(hardState: HardState): Promise<void> {
    return this.submit(() => {
      const next = checkHardState(hardState);
      const state = this.working;
      if (next.term < state.hardState.term) {
        throw new StorageError(
          `hard state term must not go backwards (${state.hardState.term} → ${next.term})`,
        );
      }
      this.working = { ...state, hardState: next };
      const bytes = encodeRecord(next);
      return () => void this.stable.put(HARD_STATE_KEY, bytes);
    });
  }

  /** Drops the entries up to and including `index`, which a snapshot now covers; its term is remembered. */
  compact(index: number): Promise<void> {
    return this.submit(() => {
      requireCount(index, 'compaction index');
      const state = this.working;
      if (index <= state.snapshot.index) {
        throw new CompactedError(`compact to ${index}: already compacted to ${state.snapshot.index}`);
      }
      if (index > state.lastIndex) {
        throw new UnavailableError(`compact to ${index}: the log ends at ${state.lastIndex}`);
      }
      return this.moveSnapshotPoint(Object.freeze({ index, term: this.workingTerm(index) }), true);
    });
  }

  /**
   * Moves the log onto a snapshot received from the leader (Raft §7): if the log holds the snapshot's last
   * entry with the same term, the entries after it stay; otherwise the whole log goes.
   */
  installSnapshot(point: SnapshotPoint): Promise<void> {
    return this.submit(() => {
      const next = checkSnapshotPoint(point);
      const state = this.working;
      if (next.index <= state.snapshot.index) {
        throw new StorageError(
          `snapshot at ${next.index} is not newer than the log's snapshot point ${state.snapshot.index}`,
        );
      }
      const matches = next.index <= state.lastIndex && this.workingTerm(next.index) === next.term;
      return this.moveSnapshotPoint(next, matches);
    });
  }

  /** Waits for queued writes, then closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.settled();
    this.reader.done();
    await this.root.close();
  }

  // --- internals ---

  /** Accepts a write (`prepare` checks it, updates `working` and returns its job) and queues its commit. */
  private submit(prepare: () => WriteJob): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError(`raft log ${this.path} is closed`));
    let job: WriteJob;
    try {
      job = prepare();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.commits.submit(job);
  }

  /** Moves the snapshot point to `point`, dropping the entries it covers and, unless `keepSuffix`, all others. */
  private moveSnapshotPoint(point: SnapshotPoint, keepSuffix: boolean): WriteJob {
    const state = this.working;
    const from = state.snapshot.index + 1;
    const through = keepSuffix ? point.index : state.lastIndex;
    this.working = { ...state, snapshot: point, lastIndex: keepSuffix ? state.lastIndex : point.index };
    const bytes = encodeRecord(point);
    return () => {
      for (let index = from; index <= through; index++) void this.log.remove(index);
      void this.stable.put(SNAPSHOT_POINT_KEY, bytes);
    };
  }

  /**
   * One group commit: every job's instructions in one LMDB transaction, then `durable` catches up. lmdb-js
   * guarantees that the writes of one `batch()` share a transaction; they run on its writer thread, so
   * nothing here may read its own writes, which is why checks run against `working` when writes are
   * submitted. (Its callback transactions, `transaction()` and `childTransaction()`, never completed under
   * Node 20 on this machine: the callback was never called back.)
   */
  private async commit(jobs: WriteJob[]): Promise<void> {
    const target = this.working;
    this.flushingTerms = this.queuedTerms;
    this.queuedTerms = new Map();
    await this.log.batch(() => {
      for (const job of jobs) job();
    });
    this.durable = target;
    this.flushingTerms = new Map();
    const reader = this.root.useReadTransaction();
    this.reader.done();
    this.reader = reader;
  }

  /** The term at `index` counting accepted writes; `index` must lie within the working log or be its point. */
  private workingTerm(index: number): number {
    const { snapshot } = this.working;
    if (index === snapshot.index) return snapshot.term;
    return this.queuedTerms.get(index) ?? this.flushingTerms.get(index) ?? this.storedTerm(index);
  }

  private storedTerm(index: number): number {
    const bytes = (this.log.getBinaryFast as unknown as FastGet).call(this.log, index, {
      transaction: this.reader,
    });
    if (bytes === undefined) throw this.missing(index);
    return entryTerm(index, bytes);
  }

  private missing(index: number): StorageError {
    return new StorageError(`raft log ${this.path} is corrupt: entry ${index} is missing`);
  }

  /** Reads the stored state back and checks that the entries form one run right after the snapshot point. */
  private load(): LogState {
    const read = <T>(key: string, check: (value: unknown) => T, initial: T, what: string): T => {
      const bytes = this.stable.get(key, { transaction: this.reader });
      return bytes === undefined ? initial : decodeRecord(bytes, check, `${what} in ${this.path}`);
    };
    const snapshot = read(SNAPSHOT_POINT_KEY, checkSnapshotPoint, INITIAL_SNAPSHOT_POINT, 'snapshot point');
    const hardState = read(HARD_STATE_KEY, checkHardState, INITIAL_HARD_STATE, 'hard state');
    const firstKey = this.firstKey(false);
    if (firstKey === undefined) return { snapshot, lastIndex: snapshot.index, hardState };
    const lastKey = this.firstKey(true) ?? firstKey;
    if (firstKey !== snapshot.index + 1) {
      throw new StorageError(
        `raft log ${this.path} is corrupt: first entry ${firstKey} does not follow snapshot point ${snapshot.index}`,
      );
    }
    const count = this.log.getCount({ transaction: this.reader });
    if (count !== lastKey - firstKey + 1) {
      throw new StorageError(
        `raft log ${this.path} is corrupt: ${count} entries between ${firstKey} and ${lastKey} (holes)`,
      );
    }
    return { snapshot, lastIndex: lastKey, hardState };
  }

  private firstKey(reverse: boolean): number | undefined {
    for (const key of this.log.getKeys({ reverse, limit: 1, transaction: this.reader })) {
      if (typeof key !== 'number' || !Number.isSafeInteger(key) || key < 1) {
        throw new StorageError(
          `raft log ${this.path} is corrupt: entry key ${describe(key)} is not an index`,
        );
      }
      return key;
    }
    return undefined;
  }
}

/** Checks that a batch is consecutive with non-decreasing terms (from `previousTerm`) and encodes it. */
function encodeBatch(entries: readonly LogEntry[], previousTerm: number): Uint8Array[] {
  const firstIndex = entries[0]?.index ?? 0;
  let term = previousTerm;
  return entries.map((entry, offset) => {
    if (entry.index !== firstIndex + offset) {
      throw new StorageError(`append: entry ${describe(entry.index)} follows ${firstIndex + offset - 1}`);
    }
    const bytes = encodeEntry(entry);
    if (entry.term < term)
      throw new StorageError(`append: entry ${entry.index} has term ${entry.term}, below ${term}`);
    term = entry.term;
    return bytes;
  });
}
