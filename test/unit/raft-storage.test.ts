import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { open } from 'lmdb';
import { CompactedError, StorageError, UnavailableError } from '../../src/raft/storage/errors.ts';
import { LogStore } from '../../src/raft/storage/log-store.ts';
import type { LogEntry } from '../../src/raft/storage/types.ts';

// The LMDB-backed Raft log on its own: every operation, its edge cases and bad input, and restarts.

const dirs: string[] = [];
const stores: LogStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raft-log-'));
  dirs.push(dir);
  return dir;
}

function openStore(dir = tempDir()): LogStore {
  const store = LogStore.open(dir);
  stores.push(store);
  return store;
}

/** Closes `store` and opens the same directory again, as a restart does. */
async function reopen(store: LogStore, dir: string): Promise<LogStore> {
  stores.splice(stores.indexOf(store), 1);
  await store.close();
  return openStore(dir);
}

const text = (s: string) => new TextEncoder().encode(s);
const entry = (index: number, term: number, data = `e${index}t${term}`, type = 'command'): LogEntry => ({
  index,
  term,
  type,
  data: text(data),
});
const run = (from: number, to: number, term: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
/** The log's content as `index:term:data` strings, for compact comparisons. */
const contents = (store: LogStore) =>
  store
    .entries(store.firstIndex(), store.lastIndex() + 1)
    .map((e) => `${e.index}:${e.term}:${new TextDecoder().decode(e.data)}`);

describe('empty log', () => {
  test('starts at 1, ends at 0, with term 0 at index 0 and initial hard state', () => {
    const store = openStore();
    assert.equal(store.firstIndex(), 1);
    assert.equal(store.lastIndex(), 0);
    assert.equal(store.term(0), 0);
    assert.deepEqual(store.entries(1, 1), []);
    assert.deepEqual(store.hardState(), { term: 0, vote: null, commit: 0 });
    assert.deepEqual(store.snapshotPoint(), { index: 0, term: 0 });
  });

  test('reads past the end are unavailable', () => {
    const store = openStore();
    assert.throws(() => store.term(1), UnavailableError);
    assert.throws(() => store.entries(1, 2), UnavailableError);
  });
});

describe('append and read', () => {
  test('entries come back with index, term, type and binary data', async () => {
    const store = openStore();
    const binary = new Uint8Array([0, 255, 1, 254, 0]);
    await store.append([entry(1, 1), { index: 2, term: 1, type: 'noop', data: new Uint8Array() }]);
    await store.append([{ index: 3, term: 2, type: 'membership ✓', data: binary }]);
    assert.equal(store.firstIndex(), 1);
    assert.equal(store.lastIndex(), 3);
    assert.deepEqual(
      store.entries(1, 4).map((e) => [e.index, e.term, e.type, [...e.data]]),
      [
        [1, 1, 'command', [...text('e1t1')]],
        [2, 1, 'noop', []],
        [3, 2, 'membership ✓', [...binary]],
      ],
    );
    assert.equal(store.term(2), 1);
    assert.equal(store.term(3), 2);
  });

  test('entries read earlier stay intact after later reads', async () => {
    const store = openStore();
    await store.append(run(1, 10, 1));
    const early = store.entries(1, 6);
    store.entries(6, 11);
    store.term(9);
    assert.deepEqual(
      early.map((e) => new TextDecoder().decode(e.data)),
      ['e1t1', 'e2t1', 'e3t1', 'e4t1', 'e5t1'],
    );
  });

  test('reads see a write only once it is durable; writes are checked against accepted ones', async () => {
    const store = openStore();
    const first = store.append(run(1, 3, 1));
    const second = store.append(run(4, 5, 1));
    assert.equal(store.lastIndex(), 0, 'nothing is durable yet');
    await first;
    assert.ok(store.lastIndex() >= 3);
    await second;
    assert.equal(store.lastIndex(), 5);
  });

  test('terms above 2^32 round-trip', async () => {
    const store = openStore();
    const term = 2 ** 40 + 7;
    await store.append([entry(1, term)]);
    assert.equal(store.term(1), term);
    assert.equal(store.entries(1, 2)[0]?.term, term);
  });

  test('big entries round-trip', async () => {
    const store = openStore();
    const big = new Uint8Array(16 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    await store.append([entry(1, 1), { index: 2, term: 1, type: 'command', data: big }, entry(3, 1)]);
    const [read] = store.entries(2, 3);
    assert.ok(read);
    assert.equal(read.data.length, big.length);
    assert.ok(Buffer.from(read.data).equals(Buffer.from(big)));
    assert.equal(store.term(2), 1);
  });

  test('bad batches are refused with a clear error and leave the log as it was', async () => {
    const store = openStore();
    await store.append(run(1, 3, 2));
    const cases: [LogEntry[], RegExp][] = [
      [[], /at least one entry/],
      [[entry(6, 2)], /would leave a gap: the log ends at 3/],
      [[entry(4, 2), entry(6, 2)], /entry 6 follows 4/],
      [[entry(4, 1)], /entry 4 has term 1, below 2/],
      [[entry(4, 3), entry(5, 2)], /entry 5 has term 2, below 3/],
      [[entry(-1, 2)], /entry index must be a non-negative integer, got -1/],
      [[entry(1.5, 2)], /entry index must be a non-negative integer, got 1.5/],
      [[entry(4, Number.NaN)], /term of entry 4 must be a non-negative integer/],
      [[{ ...entry(4, 2), data: 'text' as unknown as Uint8Array }], /data of entry 4 must be a Uint8Array/],
      [[{ ...entry(4, 2), type: 7 as unknown as string }], /type of entry 4 must be a string/],
      [[{ ...entry(4, 2), type: 'x'.repeat(70_000) }], /type of entry 4 is 70000 bytes; at most 65535/],
    ];
    for (const [batch, message] of cases) {
      await assert.rejects(
        store.append(batch),
        (err: Error) => err instanceof StorageError && message.test(err.message),
      );
    }
    await store.append([entry(4, 2)]);
    assert.deepEqual(contents(store), ['1:2:e1t2', '2:2:e2t2', '3:2:e3t2', '4:2:e4t2']);
  });
});

describe('suffix truncation', () => {
  test('an append inside the log replaces the conflicting suffix', async () => {
    const store = openStore();
    await store.append(run(1, 5, 1));
    await store.append([entry(3, 2), entry(4, 2)]);
    assert.equal(store.lastIndex(), 4);
    assert.deepEqual(contents(store), ['1:1:e1t1', '2:1:e2t1', '3:2:e3t2', '4:2:e4t2']);
    assert.throws(() => store.term(5), UnavailableError);
  });

  test('a longer replacement suffix extends the log', async () => {
    const store = openStore();
    await store.append(run(1, 3, 1));
    await store.append(run(2, 6, 2));
    assert.deepEqual(contents(store), [
      '1:1:e1t1',
      '2:2:e2t2',
      '3:2:e3t2',
      '4:2:e4t2',
      '5:2:e5t2',
      '6:2:e6t2',
    ]);
  });

  test('truncation and the append that follows it may be in flight together', async () => {
    const store = openStore();
    await store.append(run(1, 5, 1));
    await Promise.all([store.append([entry(2, 2)]), store.append(run(3, 4, 2))]);
    assert.deepEqual(contents(store), ['1:1:e1t1', '2:2:e2t2', '3:2:e3t2', '4:2:e4t2']);
  });

  test('committed entries are never overwritten', async () => {
    const store = openStore();
    await store.append(run(1, 5, 1));
    await store.setHardState({ term: 1, vote: null, commit: 3 });
    await assert.rejects(store.append([entry(3, 2)]), /would overwrite committed entries \(commit index 3\)/);
    await store.append([entry(4, 2)]);
    assert.deepEqual(contents(store), ['1:1:e1t1', '2:1:e2t1', '3:1:e3t1', '4:2:e4t2']);
  });
});

describe('reading ranges', () => {
  test('maxBytes caps the total stored size but always returns the first entry', async () => {
    const store = openStore();
    // Each stored entry is an 11-byte header, 7 bytes of type ('command') and 100 bytes of data: 118 bytes.
    await store.append(Array.from({ length: 10 }, (_, i) => entry(i + 1, 1, 'x'.repeat(100))));
    assert.equal(store.entries(1, 11).length, 10);
    assert.equal(store.entries(1, 11, 118 * 3).length, 3);
    assert.equal(store.entries(1, 11, 118 * 3 + 117).length, 3);
    assert.equal(store.entries(1, 11, 118).length, 1);
    assert.equal(store.entries(1, 11, 0).length, 1, 'one entry even when it alone exceeds the cap');
    assert.deepEqual(
      store.entries(4, 8, 118 * 2).map((e) => e.index),
      [4, 5],
    );
  });

  test('bad ranges get clear errors', async () => {
    const store = openStore();
    await store.append(run(1, 5, 1));
    assert.throws(() => store.entries(4, 3), /entries \[4, 3\): lo is past hi/);
    assert.throws(() => store.entries(1, 7), UnavailableError);
    assert.throws(() => store.entries(0, 2), CompactedError);
    assert.throws(() => store.entries(1, 2, -1), /maxBytes must be a non-negative number, got -1/);
    assert.throws(() => store.entries(1.5, 2), /lo must be a non-negative integer/);
    assert.throws(() => store.term(-1), /index must be a non-negative integer/);
    assert.deepEqual(store.entries(3, 3), []);
  });
});

describe('compaction', () => {
  test('drops the prefix, keeps the snapshot term, and refuses reads below the first index', async () => {
    const store = openStore();
    await store.append([...run(1, 3, 1), ...run(4, 6, 2)]);
    await store.compact(4);
    assert.equal(store.firstIndex(), 5);
    assert.equal(store.lastIndex(), 6);
    assert.deepEqual(store.snapshotPoint(), { index: 4, term: 2 });
    assert.equal(store.term(4), 2, 'the term of the snapshot index still answers');
    assert.throws(
      () => store.term(3),
      (err: Error) => err instanceof CompactedError && /compacted/.test(err.message),
    );
    assert.throws(() => store.entries(4, 6), CompactedError);
    assert.deepEqual(contents(store), ['5:2:e5t2', '6:2:e6t2']);
  });

  test('compacting everything leaves an empty log that continues after the snapshot', async () => {
    const store = openStore();
    await store.append(run(1, 4, 3));
    await store.compact(4);
    assert.equal(store.firstIndex(), 5);
    assert.equal(store.lastIndex(), 4);
    assert.deepEqual(store.entries(5, 5), []);
    assert.equal(store.term(4), 3);
    assert.throws(() => store.term(5), UnavailableError);
    await assert.rejects(store.append([entry(4, 3)]), CompactedError);
    await store.append([entry(5, 3)]);
    assert.deepEqual(contents(store), ['5:3:e5t3']);
  });

  test('refuses to compact twice to the same point or past the end', async () => {
    const store = openStore();
    await store.append(run(1, 4, 1));
    await store.compact(2);
    await assert.rejects(store.compact(2), CompactedError);
    await assert.rejects(store.compact(1), /already compacted to 2/);
    await assert.rejects(store.compact(5), UnavailableError);
    await assert.rejects(store.compact(-3), /compaction index must be a non-negative integer/);
  });

  test('may compact entries whose append is still in flight', async () => {
    const store = openStore();
    const appended = store.append(run(1, 6, 4));
    await Promise.all([appended, store.compact(5)]);
    assert.deepEqual(store.snapshotPoint(), { index: 5, term: 4 });
    assert.deepEqual(contents(store), ['6:4:e6t4']);
  });
});

describe('installing a snapshot', () => {
  test('keeps the entries after a matching snapshot point', async () => {
    const store = openStore();
    await store.append([...run(1, 3, 1), ...run(4, 6, 2)]);
    await store.installSnapshot({ index: 4, term: 2 });
    assert.deepEqual(store.snapshotPoint(), { index: 4, term: 2 });
    assert.deepEqual(contents(store), ['5:2:e5t2', '6:2:e6t2']);
  });

  test('discards the whole log when the snapshot point conflicts with it', async () => {
    const store = openStore();
    await store.append(run(1, 6, 1));
    await store.installSnapshot({ index: 4, term: 2 });
    assert.equal(store.firstIndex(), 5);
    assert.equal(store.lastIndex(), 4);
    assert.equal(store.term(4), 2);
    assert.deepEqual(contents(store), []);
  });

  test('discards the whole log for a snapshot past its end', async () => {
    const store = openStore();
    await store.append(run(1, 3, 1));
    await store.installSnapshot({ index: 100, term: 5 });
    assert.equal(store.firstIndex(), 101);
    assert.equal(store.lastIndex(), 100);
    assert.equal(store.term(100), 5);
    await store.append([entry(101, 5)]);
    assert.deepEqual(contents(store), ['101:5:e101t5']);
  });

  test('refuses a snapshot that is not newer, or malformed', async () => {
    const store = openStore();
    await store.append(run(1, 3, 1));
    await store.installSnapshot({ index: 2, term: 1 });
    await assert.rejects(
      store.installSnapshot({ index: 2, term: 1 }),
      /not newer than the log's snapshot point 2/,
    );
    await assert.rejects(store.installSnapshot(null as never), /snapshot point must be an object, got null/);
    await assert.rejects(
      store.installSnapshot({ index: 5, term: -1 }),
      /snapshot term must be a non-negative/,
    );
  });
});

describe('hard state', () => {
  test('is stored and read back', async () => {
    const store = openStore();
    await store.setHardState({ term: 4, vote: 'server-2', commit: 0 });
    assert.deepEqual(store.hardState(), { term: 4, vote: 'server-2', commit: 0 });
    await store.setHardState({ term: 5, vote: null, commit: 9 });
    assert.deepEqual(store.hardState(), { term: 5, vote: null, commit: 9 });
  });

  test('bad hard states get clear errors', async () => {
    const store = openStore();
    await store.setHardState({ term: 3, vote: null, commit: 0 });
    await assert.rejects(
      store.setHardState({ term: 2, vote: null, commit: 0 }),
      /must not go backwards \(3 → 2\)/,
    );
    await assert.rejects(
      store.setHardState({ term: 3, vote: '', commit: 0 }),
      /vote must be a server ID or null/,
    );
    await assert.rejects(
      store.setHardState({ term: 3, vote: null, commit: -1 }),
      /commit must be a non-negative/,
    );
    await assert.rejects(store.setHardState(undefined as never), /hard state must be an object/);
    assert.deepEqual(store.hardState(), { term: 3, vote: null, commit: 0 });
  });

  test('writes issued together commit together', async () => {
    const store = openStore();
    await Promise.all([store.append(run(1, 2, 1)), store.setHardState({ term: 1, vote: 'a', commit: 2 })]);
    assert.deepEqual(store.commitStats(), { writes: 2, commits: 1 });
  });
});

describe('restart', () => {
  test('reopening yields the same hard state, entries, bounds and snapshot point', async () => {
    const dir = tempDir();
    let store = openStore(dir);
    await store.append(run(1, 10, 1));
    await store.append(run(8, 12, 2));
    await store.compact(5);
    await store.setHardState({ term: 2, vote: 'server-1', commit: 7 });
    const before = {
      first: store.firstIndex(),
      last: store.lastIndex(),
      point: store.snapshotPoint(),
      hard: store.hardState(),
      entries: contents(store),
    };
    store = await reopen(store, dir);
    assert.deepEqual(
      {
        first: store.firstIndex(),
        last: store.lastIndex(),
        point: store.snapshotPoint(),
        hard: store.hardState(),
        entries: contents(store),
      },
      before,
    );
    assert.equal(store.term(5), 1);
    await store.append([entry(13, 2)]);
    assert.equal(store.lastIndex(), 13);
  });

  test('close waits for queued writes; a closed store refuses writes', async () => {
    const dir = tempDir();
    const store = LogStore.open(dir);
    const pending = store.append(run(1, 3, 1));
    await store.close();
    await pending;
    await assert.rejects(store.append([entry(4, 1)]), /is closed/);
    const again = openStore(dir);
    assert.equal(again.lastIndex(), 3);
  });
});

describe('corrupt data on disk', () => {
  /** Changes the raw database while no store has it open, as a disk fault or stray tool would. */
  async function tamper(dir: string, change: (dbs: { entries: Db; stable: Db }) => void): Promise<void> {
    const root = open({ path: join(dir, 'raft.lmdb'), noSubdir: true, maxDbs: 2 });
    const entries = root.openDB<Uint8Array, number | string>({ name: 'entries', encoding: 'binary' });
    const stable = root.openDB<Uint8Array, number | string>({ name: 'stable', encoding: 'binary' });
    root.transactionSync(() => change({ entries, stable }));
    await root.close();
  }
  type Db = {
    putSync(key: number | string, value: Uint8Array): void;
    removeSync(key: number | string): void;
  };

  async function seeded(): Promise<string> {
    const dir = tempDir();
    const store = LogStore.open(dir);
    await store.append(run(1, 5, 1));
    await store.setHardState({ term: 1, vote: null, commit: 2 });
    await store.close();
    return dir;
  }

  test('a hole in the log', async () => {
    const dir = await seeded();
    await tamper(dir, ({ entries }) => entries.removeSync(3));
    assert.throws(() => LogStore.open(dir), /is corrupt: 4 entries between 1 and 5 \(holes\)/);
  });

  test('entries that do not follow the snapshot point', async () => {
    const dir = await seeded();
    await tamper(dir, ({ entries }) => entries.removeSync(1));
    assert.throws(() => LogStore.open(dir), /first entry 2 does not follow snapshot point 0/);
  });

  test('a garbled hard state', async () => {
    const dir = await seeded();
    await tamper(dir, ({ stable }) => stable.putSync('hard-state', new Uint8Array([0xc1])));
    assert.throws(() => LogStore.open(dir), /stored hard state in .* is corrupt/);
  });

  test('a garbled entry', async () => {
    const dir = await seeded();
    await tamper(dir, ({ entries }) => entries.putSync(4, new Uint8Array([9, 9, 9])));
    const store = openStore(dir);
    assert.throws(() => store.term(4), /entry 4 is corrupt: it is 3 bytes, shorter than a header/);
    assert.throws(() => store.entries(1, 6), /entry 4 is corrupt/);
  });

  test('a key that is not an index', async () => {
    const dir = await seeded();
    await tamper(dir, ({ entries }) => entries.putSync('zz', new Uint8Array(12)));
    assert.throws(() => LogStore.open(dir), /entry key "zz" is not an index/);
  });
});
