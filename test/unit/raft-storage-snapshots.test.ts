import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { StorageError } from '../../src/raft/storage/errors.ts';
import type { SnapshotMeta } from '../../src/raft/storage/snapshot-meta.ts';
import { type NewSnapshot, SnapshotStore } from '../../src/raft/storage/snapshot-store.ts';

// FSM snapshot files: chunked writes and reads, atomic commit, retention, and falling back past a torn or
// corrupt newest snapshot on open.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function raftDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raft-snapshots-'));
  dirs.push(dir);
  return dir;
}

const members = [
  { id: 'server-1', address: '127.0.0.1:8300', voter: true },
  { id: 'server-2', address: '127.0.0.2:8300', voter: false },
];
const point = (index: number, term = 1): NewSnapshot => ({ index, term, membership: members });
/** Deterministic bytes, so a snapshot's content can be checked without keeping a copy. */
const pattern = (length: number, seed: number) => new Uint8Array(length).map((_, i) => (i * 7 + seed) & 0xff);

async function save(
  store: SnapshotStore,
  snapshot: NewSnapshot,
  chunks: Uint8Array[],
): Promise<SnapshotMeta> {
  const writer = await store.create(snapshot);
  for (const chunk of chunks) await writer.write(chunk);
  return writer.commit();
}

async function readAll(store: SnapshotStore, id: string, chunkSize?: number): Promise<Buffer> {
  const reader = await store.read(id);
  const parts: Uint8Array[] = [];
  for await (const chunk of reader.chunks(chunkSize)) parts.push(chunk);
  return Buffer.concat(parts);
}

const dataPath = (dir: string, meta: SnapshotMeta) => join(dir, 'snapshots', meta.id, 'state.bin');
const metaPath = (dir: string, meta: SnapshotMeta) => join(dir, 'snapshots', meta.id, 'meta.json');

describe('writing and reading', () => {
  test('a new store has no snapshot', async () => {
    const store = await SnapshotStore.open(raftDir());
    assert.equal(store.latest(), null);
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(store.discarded, []);
  });

  test('chunks written come back whole, with size, checksum and membership in the metadata', async () => {
    const dir = raftDir();
    const store = await SnapshotStore.open(dir);
    const chunks = [pattern(1000, 1), pattern(0, 2), pattern(3000, 3)];
    const meta = await save(store, point(42, 3), chunks);
    const whole = Buffer.concat(chunks);
    assert.equal(meta.index, 42);
    assert.equal(meta.term, 3);
    assert.equal(meta.size, 4000);
    assert.equal(meta.sha256, createHash('sha256').update(whole).digest('hex'));
    assert.deepEqual(meta.membership, members);
    assert.match(meta.id, /^3-42-\d+$/);
    assert.deepEqual(store.latest(), meta);
    assert.deepEqual(JSON.parse(readFileSync(metaPath(dir, meta), 'utf8')), { version: 1, ...meta });
    assert.ok((await readAll(store, meta.id, 777)).equals(whole));
    assert.deepEqual(readdirSync(join(dir, 'snapshots')), [meta.id], 'no temp folder is left behind');
  });

  test('a big snapshot streams in chunks no larger than asked for', async () => {
    const store = await SnapshotStore.open(raftDir());
    const chunk = pattern(1 << 20, 5);
    const writer = await store.create(point(7));
    const hash = createHash('sha256');
    for (let i = 0; i < 24; i++) {
      await writer.write(chunk);
      hash.update(chunk);
    }
    const meta = await writer.commit();
    assert.equal(meta.size, 24 << 20);
    const reader = await store.read(meta.id);
    const readHash = createHash('sha256');
    let count = 0;
    for await (const part of reader.chunks(256 * 1024)) {
      assert.ok(part.length <= 256 * 1024);
      readHash.update(part);
      count++;
    }
    assert.equal(count, 96);
    assert.equal(readHash.digest('hex'), hash.digest('hex'));
  });

  test('a snapshot is invisible until committed, and abort leaves nothing', async () => {
    const dir = raftDir();
    const store = await SnapshotStore.open(dir);
    const writer = await store.create(point(5));
    await writer.write(pattern(10, 1));
    assert.deepEqual(await store.list(), []);
    assert.equal(store.latest(), null);
    await writer.abort();
    assert.deepEqual(readdirSync(join(dir, 'snapshots')), []);
  });

  test('keeps the last two snapshots', async () => {
    const store = await SnapshotStore.open(raftDir());
    const metas: SnapshotMeta[] = [];
    for (const index of [10, 20, 30, 40]) metas.push(await save(store, point(index), [pattern(100, index)]));
    assert.deepEqual(await store.list(), [metas[3]?.id, metas[2]?.id]);
    assert.equal(store.latest()?.index, 40);
  });

  test('reopening finds the latest snapshot', async () => {
    const dir = raftDir();
    const store = await SnapshotStore.open(dir);
    await save(store, point(10), [pattern(100, 1)]);
    const newest = await save(store, point(20, 2), [pattern(200, 2)]);
    const reopened = await SnapshotStore.open(dir);
    assert.deepEqual(reopened.latest(), newest);
    assert.deepEqual(reopened.discarded, []);
    assert.ok((await readAll(reopened, newest.id)).equals(Buffer.from(pattern(200, 2))));
  });

  test('a snapshot left half-written by a crash is removed on open', async () => {
    const dir = raftDir();
    const store = await SnapshotStore.open(dir);
    const kept = await save(store, point(10), [pattern(100, 1)]);
    const writer = await store.create(point(20));
    await writer.write(pattern(100, 2));
    const reopened = await SnapshotStore.open(dir);
    assert.deepEqual(reopened.latest(), kept);
    assert.deepEqual(readdirSync(join(dir, 'snapshots')), [kept.id]);
    await writer.abort(); // only releases the file handle: the "crashed" writer's folder is already gone
  });
});

describe('falling back past a broken newest snapshot', () => {
  /** Two snapshots, then `breakIt` applied to the newer one; returns what reopening found. */
  async function reopenAfter(breakIt: (dir: string, newest: SnapshotMeta) => void) {
    const dir = raftDir();
    const store = await SnapshotStore.open(dir);
    const older = await save(store, point(10), [pattern(5000, 1)]);
    const newest = await save(store, point(20), [pattern(5000, 2), pattern(5000, 3)]);
    breakIt(dir, newest);
    const reopened = await SnapshotStore.open(dir);
    return { dir, older, newest, reopened };
  }

  const cases: [string, (dir: string, newest: SnapshotMeta) => void, RegExp][] = [
    [
      'torn data (truncated file)',
      (dir, m) => truncateSync(dataPath(dir, m), 4096),
      /data is 4096 bytes, metadata says 10000 \(torn\?\)/,
    ],
    [
      'flipped data byte',
      (dir, m) => {
        const bytes = readFileSync(dataPath(dir, m));
        bytes[1234] = (bytes[1234] ?? 0) ^ 0xff;
        writeFileSync(dataPath(dir, m), bytes);
      },
      /checksum [0-9a-f]{64} does not match/,
    ],
    ['missing data', (dir, m) => rmSync(dataPath(dir, m)), /its data file is missing/],
    ['missing metadata', (dir, m) => rmSync(metaPath(dir, m)), /meta.json is missing/],
    ['metadata not JSON', (dir, m) => writeFileSync(metaPath(dir, m), '{"ver'), /meta.json is not JSON/],
    [
      'metadata with a bad field',
      (dir, m) => writeFileSync(metaPath(dir, m), JSON.stringify({ version: 1, ...m, sha256: 'nope' })),
      /meta.json is invalid: sha256: must be 64 lowercase hex digits/,
    ],
    [
      'metadata of another snapshot',
      (dir, m) => writeFileSync(metaPath(dir, m), JSON.stringify({ version: 1, ...m, index: 99 })),
      /meta.json describes .* \(term 1, index 99\)/,
    ],
  ];
  for (const [name, breakIt, reason] of cases) {
    test(name, async () => {
      const { dir, older, newest, reopened } = await reopenAfter(breakIt);
      assert.deepEqual(reopened.latest(), older);
      assert.equal(reopened.discarded.length, 1);
      assert.equal(reopened.discarded[0]?.id, newest.id);
      assert.match(reopened.discarded[0]?.reason ?? '', reason);
      assert.equal(existsSync(join(dir, 'snapshots', newest.id)), false, 'the broken snapshot is removed');
      assert.ok((await readAll(reopened, older.id)).equals(Buffer.from(pattern(5000, 1))));
    });
  }

  test('with every snapshot broken there is none', async () => {
    const dir = raftDir();
    const store = await SnapshotStore.open(dir);
    const metas = [
      await save(store, point(1), [pattern(10, 1)]),
      await save(store, point(2), [pattern(10, 2)]),
    ];
    for (const meta of metas) truncateSync(dataPath(dir, meta), 3);
    const reopened = await SnapshotStore.open(dir);
    assert.equal(reopened.latest(), null);
    assert.equal(reopened.discarded.length, 2);
  });

  test('a reader notices data corrupted after open', async () => {
    const dir = raftDir();
    const store = await SnapshotStore.open(dir);
    const meta = await save(store, point(1), [pattern(100, 1)]);
    writeFileSync(dataPath(dir, meta), pattern(100, 9));
    await assert.rejects(readAll(store, meta.id), /checksum .* does not match/);
  });
});

describe('bad input', () => {
  test('malformed snapshot descriptions are refused', async () => {
    const store = await SnapshotStore.open(raftDir());
    await assert.rejects(store.create(point(-1)), /snapshot index must be a non-negative integer, got -1/);
    await assert.rejects(
      store.create({ ...point(1), term: 1.5 }),
      /snapshot term must be a non-negative integer/,
    );
    await assert.rejects(
      store.create({ ...point(1), membership: [{ id: '', address: 'x', voter: true }] }),
      /membership is invalid: 0.id:/,
    );
    await assert.rejects(store.create({ ...point(1), membership: null as never }), /membership is invalid/);
  });

  test('a snapshot older than the latest is refused', async () => {
    const store = await SnapshotStore.open(raftDir());
    await save(store, point(20), [pattern(1, 1)]);
    await assert.rejects(store.create(point(19)), /snapshot at 19 is older than the latest snapshot at 20/);
  });

  test('reading an unknown or malformed id', async () => {
    const store = await SnapshotStore.open(raftDir());
    await assert.rejects(store.read('../etc'), /"..\/etc" is not a snapshot id/);
    await assert.rejects(
      store.read('1-2-3'),
      (err: Error) => err instanceof StorageError && /meta.json is missing/.test(err.message),
    );
  });

  test('writer misuse', async () => {
    const store = await SnapshotStore.open(raftDir());
    const writer = await store.create(point(1));
    const first = writer.write(pattern(1 << 20, 1));
    await assert.rejects(writer.write(pattern(10, 2)), /write while a write is in progress/);
    await first;
    await writer.commit();
    await assert.rejects(writer.write(pattern(10, 3)), /write after commit or abort/);
    await assert.rejects(writer.commit(), /commit after commit or abort/);
  });

  test('a bad chunk size', async () => {
    const store = await SnapshotStore.open(raftDir());
    const meta = await save(store, point(1), [pattern(10, 1)]);
    const reader = await store.read(meta.id);
    await assert.rejects(reader.chunks(0).next(), /chunk size must be a positive integer, got 0/);
  });

  test('stray files in the snapshots folder are left alone', async () => {
    const dir = raftDir();
    mkdirSync(join(dir, 'snapshots', 'lost+found'), { recursive: true });
    const store = await SnapshotStore.open(dir);
    await save(store, point(1), [pattern(10, 1)]);
    assert.ok(existsSync(join(dir, 'snapshots', 'lost+found')));
    assert.equal((await store.list()).length, 1);
  });
});
