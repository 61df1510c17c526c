import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GroupCommit } from '../../src/raft/storage/group-commit.ts';
import { LogStore } from '../../src/raft/storage/log-store.ts';

// Group commit: its batching rules on a fake disk, then measured on the real log (commits and fsyncs per
// write, throughput and durable-append latency with 64 concurrent appenders). The fsync count comes from
// strace when it is installed: this file re-runs itself as a child under strace for that.

const CHILD_ENV = 'RAFT_STORAGE_FSYNC_CHILD';

interface Measurement {
  writes: number;
  commits: number;
  seconds: number;
  p50: number;
  p99: number;
}

/** `appenders` clients each append one entry at a time, waiting for it to be durable, until `total` are done. */
async function measure(store: LogStore, appenders: number, total: number, bytes = 100): Promise<Measurement> {
  const data = new Uint8Array(bytes).fill(7);
  const latencies: number[] = [];
  const before = store.commitStats();
  let next = store.lastIndex() + 1;
  const end = next + total;
  const started = performance.now();
  const appender = async () => {
    while (next < end) {
      const index = next++;
      const t0 = performance.now();
      await store.append([{ index, term: 1, type: 'command', data }]);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: appenders }, appender));
  const seconds = (performance.now() - started) / 1000;
  const after = store.commitStats();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    writes: after.writes - before.writes,
    commits: after.commits - before.commits,
    seconds,
    p50: at(0.5),
    p99: at(0.99),
  };
}

function report(label: string, m: Measurement): string {
  return (
    `${label}: ${m.writes} writes in ${m.commits} commits (${(m.commits / m.writes).toFixed(3)} fsync rounds per ` +
    `write), ${Math.round(m.writes / m.seconds)} appends/s, durable append latency p50 ${m.p50.toFixed(2)} ms, ` +
    `p99 ${m.p99.toFixed(2)} ms`
  );
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'raft-group-commit-'));
}

const childDir = process.env[CHILD_ENV];
if (childDir) {
  const store = LogStore.open(childDir);
  const result = await measure(store, 64, 2000);
  await store.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  describe('group commit rules', () => {
    /** A disk whose commits finish only when the test says so, recording what each one carried. */
    function fakeDisk() {
      const batches: number[][] = [];
      const finish: (() => void)[] = [];
      const commits = new GroupCommit<number>((jobs) => {
        batches.push(jobs);
        return new Promise((resolve) => finish.push(resolve));
      });
      return { commits, batches, finish };
    }
    const tick = () => new Promise((resolve) => setImmediate(resolve));

    test('writes submitted together share a commit; writes during a commit share the next one', async () => {
      const { commits, batches, finish } = fakeDisk();
      const done: number[] = [];
      const submit = (n: number) => commits.submit(n).then(() => done.push(n));
      const first = [submit(1), submit(2)];
      await tick();
      assert.deepEqual(batches, [[1, 2]]);
      const second = [submit(3), submit(4), submit(5)];
      await tick();
      assert.deepEqual(batches, [[1, 2]], 'nothing starts while a commit is in flight');
      finish.shift()?.();
      await Promise.all(first);
      await tick();
      assert.deepEqual(batches, [
        [1, 2],
        [3, 4, 5],
      ]);
      assert.deepEqual(done, [1, 2], 'a write resolves only with its own commit');
      finish.shift()?.();
      await Promise.all(second);
      assert.deepEqual(done, [1, 2, 3, 4, 5]);
      assert.deepEqual(commits.stats, { writes: 5, commits: 2 });
    });

    test('a failed commit fails its writes and every later one', async () => {
      const commits = new GroupCommit<number>(() => Promise.reject(new Error('EIO: disk gone')));
      await assert.rejects(
        commits.submit(1),
        /durable commit failed; no further writes are accepted: Error: EIO/,
      );
      await assert.rejects(commits.submit(2), /durable commit failed/);
      await commits.settled();
    });
  });

  describe('group commit on the real log', () => {
    test('64 concurrent appenders need far fewer commits than writes', async () => {
      const dir = tempDir();
      try {
        const store = LogStore.open(dir);
        const serial = await measure(store, 1, 200);
        const concurrent = await measure(store, 64, 5000);
        await store.close();
        console.log(report('1 appender  ', serial));
        console.log(report('64 appenders', concurrent));
        assert.equal(serial.commits, serial.writes, 'one writer at a time: a commit per write');
        assert.ok(
          concurrent.commits < concurrent.writes / 4,
          `expected batching, got ${concurrent.commits} commits for ${concurrent.writes} writes`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    const strace = spawnSync('strace', ['-V']).status === 0;
    test('every commit is fsynced, and fsyncs stay far below writes (counted by strace)', {
      skip: !strace && 'strace is not installed',
    }, () => {
      const dir = tempDir();
      const summary = join(dir, 'strace.txt');
      try {
        const child = spawnSync(
          'strace',
          [
            '-f',
            '-c',
            '-o',
            summary,
            '-e',
            'trace=fsync,fdatasync',
            process.execPath,
            '--import',
            'tsx',
            fileURLToPath(import.meta.url),
          ],
          { env: { ...process.env, [CHILD_ENV]: join(dir, 'raft') }, encoding: 'utf8', timeout: 120_000 },
        );
        assert.equal(child.status, 0, child.stderr);
        const result = JSON.parse(child.stdout) as Measurement;
        const calls = (name: string) => {
          const row = new RegExp(
            `^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)\\s+(?:\\d+\\s+)?${name}\\s*$`,
            'm',
          );
          return Number(row.exec(readFileSync(summary, 'utf8'))?.[1] ?? 0);
        };
        const fsyncs = calls('fdatasync') + calls('fsync');
        console.log(
          `under strace: ${result.writes} writes, ${result.commits} commits, ${fsyncs} fsync/fdatasync calls ` +
            `(${(fsyncs / result.writes).toFixed(3)} per write)`,
        );
        // Opening a fresh database commits once or twice more (creating the sub-databases), and a directory is
        // synced per level when the store is created.
        assert.ok(fsyncs >= result.commits, `${fsyncs} fsyncs for ${result.commits} commits`);
        assert.ok(fsyncs <= result.commits + 6, `${fsyncs} fsyncs for ${result.commits} commits`);
        assert.ok(fsyncs < result.writes / 4);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
