import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Random, seededRandom } from '../../src/raft/core/prng.ts';
import type { HistoryEntry, KvOperation } from './history.ts';
import { checkKvHistory, checkLinearizable, registerModel, type TimedOperation } from './linearizability.ts';

// The checker against histories whose answer is known: generated from a sequential execution (so
// linearizable by construction), corrupted on purpose, and compared with brute force on small ones.

/**
 * `clients` clients each run `perClient` operations on one register. Every operation takes effect at a random
 * point within its interval; results come from executing them in that order. Some writes never answer (and
 * took effect or not, at random).
 */
function linearizableHistory(random: Random, clients: number, perClient: number): HistoryEntry[] {
  const planned: {
    client: number;
    invoke: number;
    at: number;
    complete: number;
    kind: 'put' | 'get' | 'cas';
  }[] = [];
  for (let client = 0; client < clients; client++) {
    let time = random.float() * 5;
    for (let i = 0; i < perClient; i++) {
      const invoke = time + random.float() * 3;
      const complete = invoke + 0.1 + random.float() * 10;
      const at = invoke + random.float() * (complete - invoke);
      const roll = random.float();
      planned.push({ client, invoke, at, complete, kind: roll < 0.4 ? 'put' : roll < 0.7 ? 'get' : 'cas' });
      time = complete;
    }
  }
  let state: string | null = null;
  let seq = 0;
  const history: HistoryEntry[] = [];
  for (const op of planned.sort((a, b) => a.at - b.at)) {
    const value = `v${seq++}`;
    const unknown = op.kind !== 'get' && random.float() < 0.05;
    const tookEffect = !unknown || random.float() < 0.5;
    let operation: KvOperation;
    if (op.kind === 'get') {
      operation = { kind: 'get', result: state };
    } else if (op.kind === 'put') {
      operation = { kind: 'put', value };
      if (tookEffect) state = value;
    } else {
      const expected = random.float() < 0.5 ? state : `v${random.int(seq)}`;
      const ok = state === expected;
      operation = {
        kind: 'cas',
        expected,
        value,
        result: unknown ? null : ok ? { ok } : { ok, current: state },
      };
      if (ok && tookEffect) state = value;
    }
    history.push({
      client: op.client,
      key: 'k',
      op: operation,
      invoke: op.invoke,
      complete: unknown ? null : op.complete,
    });
  }
  return history;
}

describe('linearizability checker', () => {
  test('accepts generated linearizable histories of hundreds of operations per key, quickly', (t) => {
    for (let seed = 1; seed <= 20; seed++) {
      const history = linearizableHistory(seededRandom(seed), 5, 100);
      const started = performance.now();
      const result = checkKvHistory(history);
      const ms = performance.now() - started;
      assert.deepEqual(result, { ok: true }, `seed ${seed}`);
      if (seed === 1) t.diagnostic(`${history.length} operations on one key checked in ${ms.toFixed(1)} ms`);
    }
  });

  test('rejects a stale read', () => {
    const history: HistoryEntry[] = [
      { client: 0, key: 'k', op: { kind: 'put', value: 'a' }, invoke: 0, complete: 1 },
      { client: 0, key: 'k', op: { kind: 'put', value: 'b' }, invoke: 2, complete: 3 },
      { client: 1, key: 'k', op: { kind: 'get', result: 'a' }, invoke: 4, complete: 5 },
    ];
    assert.equal(checkKvHistory(history).ok, false);
  });

  test('rejects a read of a value nobody wrote, and a lost acknowledged write', () => {
    const invented: HistoryEntry[] = [
      { client: 0, key: 'k', op: { kind: 'get', result: 'x' }, invoke: 0, complete: 1 },
    ];
    assert.equal(checkKvHistory(invented).ok, false);
    const lost: HistoryEntry[] = [
      { client: 0, key: 'k', op: { kind: 'put', value: 'a' }, invoke: 0, complete: 1 },
      { client: 1, key: 'k', op: { kind: 'get', result: null }, invoke: 2, complete: 3 },
    ];
    assert.equal(checkKvHistory(lost).ok, false);
  });

  test('lets a write of unknown outcome take effect late or never', () => {
    const late: HistoryEntry[] = [
      { client: 0, key: 'k', op: { kind: 'put', value: 'a' }, invoke: 0, complete: null },
      { client: 1, key: 'k', op: { kind: 'get', result: null }, invoke: 1, complete: 2 },
      { client: 1, key: 'k', op: { kind: 'get', result: 'a' }, invoke: 3, complete: 4 },
    ];
    assert.deepEqual(checkKvHistory(late), { ok: true });
    const flipFlop = [
      ...late,
      { client: 1, key: 'k', op: { kind: 'get', result: null }, invoke: 5, complete: 6 } as const,
    ];
    assert.equal(checkKvHistory(flipFlop).ok, false);
  });

  test('rejects a corrupted read in generated histories', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const history = linearizableHistory(seededRandom(seed), 4, 40);
      // Make a late read return the register's first value, long overwritten.
      const firstWrite = history.find((entry) => entry.op.kind === 'put' && entry.complete !== null)!;
      const lateRead = history
        .filter((entry) => entry.op.kind === 'get' && entry.invoke > firstWrite.complete! + 50)
        .at(-1);
      if (!lateRead || firstWrite.op.kind !== 'put') continue;
      const writes = history.filter(
        (entry) => entry.op.kind !== 'get' && entry.invoke > firstWrite.complete!,
      );
      if (writes.every((entry) => entry.complete === null)) continue;
      lateRead.op = { kind: 'get', result: firstWrite.op.value };
      assert.equal(checkKvHistory(history).ok, false, `seed ${seed}`);
    }
  });

  test('agrees with brute force on small histories', () => {
    const op = fc.record({
      invoke: fc.integer({ min: 0, max: 20 }),
      length: fc.integer({ min: 0, max: 10 }),
      unknown: fc.boolean(),
      kind: fc.constantFrom('put', 'get', 'cas'),
      a: fc.constantFrom(null, 'x', 'y'),
      b: fc.constantFrom('x', 'y', 'z'),
      ok: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 6 }), (ops) => {
        const history: TimedOperation<KvOperation>[] = ops.map((o) => {
          const complete = o.kind !== 'get' && o.unknown ? null : o.invoke + o.length;
          if (o.kind === 'put') return { op: { kind: 'put', value: o.b }, invoke: o.invoke, complete };
          if (o.kind === 'get') return { op: { kind: 'get', result: o.a }, invoke: o.invoke, complete };
          const result =
            complete === null ? null : o.ok ? { ok: true as const } : { ok: false as const, current: o.a };
          return { op: { kind: 'cas', expected: o.a, value: o.b, result }, invoke: o.invoke, complete };
        });
        assert.equal(checkLinearizable(history, registerModel).ok, bruteForce(history));
      }),
      { numRuns: 2000 },
    );
  });

  test('agrees with brute force after dropping unobserved unknown writes (values unique)', () => {
    const op = fc.record({
      invoke: fc.integer({ min: 0, max: 20 }),
      length: fc.integer({ min: 0, max: 10 }),
      unknown: fc.boolean(),
      kind: fc.constantFrom('put', 'get', 'cas'),
      seen: fc.nat(6),
      ok: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 6 }), (ops) => {
        const value = (i: number) => (i === 0 ? null : `w${i}`);
        const history: HistoryEntry[] = ops.map((o, i) => {
          const complete = o.kind !== 'get' && o.unknown ? null : o.invoke + o.length;
          const base = { client: i, key: 'k', invoke: o.invoke, complete };
          if (o.kind === 'put') return { ...base, op: { kind: 'put', value: `w${i + 1}` } };
          if (o.kind === 'get') return { ...base, op: { kind: 'get', result: value(o.seen) } };
          const result =
            complete === null
              ? null
              : o.ok
                ? { ok: true as const }
                : { ok: false as const, current: value(o.seen) };
          return { ...base, op: { kind: 'cas', expected: value(o.seen), value: `w${i + 1}`, result } };
        });
        assert.equal(checkKvHistory(history).ok, bruteForce(history));
      }),
      { numRuns: 2000 },
    );
  });
});

/** Tries every order of every subset of unknown operations (completed ones must all appear). */
function bruteForce(history: TimedOperation<KvOperation>[]): boolean {
  const search = (state: string | null, done: Set<number>): boolean => {
    if (history.every((op, i) => done.has(i) || op.complete === null)) return true;
    for (let i = 0; i < history.length; i++) {
      if (done.has(i)) continue;
      const op = history[i]!;
      // i may go next only if no operation still pending returned before i was invoked.
      const blocked = history.some(
        (other, j) => j !== i && !done.has(j) && other.complete !== null && other.complete < op.invoke,
      );
      if (blocked) continue;
      const next = registerModel.step(state, op.op);
      if (next !== undefined && search(next, new Set([...done, i]))) return true;
    }
    return false;
  };
  return search(null, new Set());
}
