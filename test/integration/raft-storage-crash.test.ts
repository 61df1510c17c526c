import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LogStore } from '../../src/raft/storage/log-store.ts';
import type { LogEntry } from '../../src/raft/storage/types.ts';

// Crash safety with a real process: a child appends batches (several in flight, like a leader pipelining),
// stores its commit index and compacts now and then, printing each write as it resolves. The parent
// `kill -9`s it at a random moment, reopens the log and checks that everything the child was told is
// durable is there with the right content, with no holes. Several rounds continue the same log, so each
// one also restarts from what the previous crash left.
//
// A kill -9 keeps the page cache, so this proves atomic, consistent recovery and that a write resolves only
// after its commit; that commits reach the platter is what the fsync count in raft-storage-group-commit
// shows.

const CHILD_ENV = 'RAFT_STORAGE_CRASH_CHILD';
const ROUNDS = 6;

/** Every entry's content follows from its index, so the parent can check it without being told. */
function expectedEntry(index: number): LogEntry {
  const length = index % 97 === 0 ? 256 * 1024 : 1 + ((index * 7919) % 2000);
  return {
    index,
    term: 1 + Math.floor(index / 1000),
    type: `type-${index % 3}`,
    data: new Uint8Array(length).map((_, k) => (index + k) & 0xff),
  };
}

/** The child: appends forever, reporting durable writes as `append <last index>`, `commit <n>`, `compact <n>`. */
async function child(dir: string): Promise<void> {
  const store = LogStore.open(dir);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let next = store.lastIndex() + 1;
  let durable = store.lastIndex();
  let term = store.hardState().term;
  let compacted = store.snapshotPoint().index;
  const appendBatch = async () => {
    const size = 1 + Math.floor(Math.random() * 16);
    const batch = Array.from({ length: size }, (_, i) => expectedEntry(next + i));
    next += size;
    await store.append(batch);
    const last = batch[batch.length - 1]?.index ?? 0;
    durable = Math.max(durable, last);
    say(`append ${last}`);
    if (Math.random() < 0.2) {
      const commit = durable;
      term = Math.max(term, expectedEntry(commit).term);
      await store.setHardState({ term, vote: 'server-1', commit });
      say(`commit ${commit}`);
    }
    if (Math.random() < 0.05 && durable - 200 > compacted) {
      const through = durable - 200;
      compacted = through;
      await store.compact(through);
      say(`compact ${through}`);
    }
  };
  const pipeline = async () => {
    for (;;) await appendBatch();
  };
  await Promise.all(Array.from({ length: 8 }, pipeline));
}

interface Claims {
  append: number;
  commit: number;
  compact: number;
}

/** Runs the child, kills it with SIGKILL `runMs` after its first durable append, and returns what it claimed. */
function crashRound(dir: string, runMs: number): Promise<Claims> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, [CHILD_ENV]: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const claims: Claims = { append: 0, commit: 0, compact: 0 };
    let buffered = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, value] = line.split(' ');
        if (kind !== 'append' && kind !== 'commit' && kind !== 'compact') continue;
        if (claims.append === 0) setTimeout(() => proc.kill('SIGKILL'), runMs);
        claims[kind] = Math.max(claims[kind], Number(value));
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(claims);
      else reject(new Error(`child exited on its own (code ${code}, signal ${signal})`));
    });
  });
}

/** Reopens the log and checks it against the child's claims; returns its last index. */
async function checkLog(dir: string, claims: Claims): Promise<number> {
  const store = LogStore.open(dir);
  try {
    const first = store.firstIndex();
    const last = store.lastIndex();
    assert.ok(last >= claims.append, `entry ${claims.append} was reported durable; the log ends at ${last}`);
    assert.ok(store.hardState().commit >= claims.commit, `commit ${claims.commit} was reported durable`);
    assert.ok(store.hardState().commit <= last);
    const point = store.snapshotPoint();
    assert.ok(point.index >= claims.compact, `compaction to ${claims.compact} was reported durable`);
    assert.equal(first, point.index + 1);
    if (point.index > 0) assert.equal(store.term(point.index), expectedEntry(point.index).term);
    for (let lo = first; lo <= last; ) {
      const batch = store.entries(lo, last + 1, 4 << 20);
      for (const entry of batch) {
        const expected = expectedEntry(entry.index);
        assert.equal(entry.index, lo++, 'entries come back in order with no holes');
        assert.equal(entry.term, expected.term, `term of ${entry.index}`);
        assert.equal(entry.type, expected.type, `type of ${entry.index}`);
        assert.ok(Buffer.from(entry.data).equals(Buffer.from(expected.data)), `data of ${entry.index}`);
      }
    }
    return last;
  } finally {
    await store.close();
  }
}

const childDir = process.env[CHILD_ENV];
if (childDir) {
  await child(childDir);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'raft-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(`kill -9 during appends loses nothing reported durable (${ROUNDS} rounds)`, {
    timeout: 120_000,
  }, async () => {
    let previousLast = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const runMs = 100 + Math.floor(Math.random() * 500);
      const claims = await crashRound(dir, runMs);
      const last = await checkLog(dir, claims);
      console.log(
        `round ${round}: killed ${runMs} ms into appending; reported durable through ${claims.append} ` +
          `(commit ${claims.commit}, compacted through ${claims.compact}); log recovered through ${last}`,
      );
      assert.ok(last > previousLast, 'each round made progress');
      previousLast = last;
    }
  });
}
