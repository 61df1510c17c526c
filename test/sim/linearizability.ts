import type { HistoryEntry, KvOperation } from './history.ts';

// A Wing & Gong linearizability checker with Lowe's memoization (as in Porcupine and Knossos): a depth-first
// search for an order of the operations that respects real time and the sequential model, remembering every
// (set of linearized operations, model state) already explored so that no configuration is searched twice.

/** A sequential specification: `step` returns the state after `op`, or undefined if `op` cannot happen. */
export interface Model<State, Op> {
  init: State;
  step(state: State, op: Op): State | undefined;
  /** Identifies a state, for memoization. */
  key(state: State): string;
}

/** An operation with its invocation and completion times; `complete: null` means it never returned. */
export interface TimedOperation<Op> {
  op: Op;
  invoke: number;
  complete: number | null;
}

export type CheckResult =
  | { ok: true }
  | { ok: false; reason: 'not linearizable'; detail: string }
  | { ok: false; reason: 'search budget exhausted'; detail: string };

interface Cell {
  op: number;
  isCall: boolean;
  /** For a call: its return. */
  match: Cell | null;
  prev: Cell | null;
  next: Cell | null;
}

export function checkLinearizable<State, Op>(
  history: readonly TimedOperation<Op>[],
  model: Model<State, Op>,
  budget = 5_000_000,
): CheckResult {
  const head = buildEventList(history);
  const linearized = new OpSet(history.length);
  const seen = new Map<string, Uint32Array[]>();
  const stack: { call: Cell; state: State }[] = [];
  let state = model.init;
  let entry = head.next;
  let deepest = { depth: -1, stuckAt: -1 };
  for (let steps = 0; entry !== null; steps++) {
    if (steps > budget)
      return { ok: false, reason: 'search budget exhausted', detail: `${history.length} operations` };
    if (entry.isCall) {
      const after = model.step(state, history[entry.op]!.op);
      if (after !== undefined) {
        linearized.add(entry.op);
        if (remember(seen, linearized, model.key(after))) {
          stack.push({ call: entry, state });
          state = after;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized.remove(entry.op);
      }
      entry = entry.next;
    } else {
      // A return reached with its operation not linearized: undo the last choice.
      if (stack.length > deepest.depth) deepest = { depth: stack.length, stuckAt: entry.op };
      const top = stack.pop();
      if (!top) return { ok: false, reason: 'not linearizable', detail: describe(history, deepest) };
      linearized.remove(top.call.op);
      state = top.state;
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { ok: true };
}

function describe<Op>(
  history: readonly TimedOperation<Op>[],
  deepest: { depth: number; stuckAt: number },
): string {
  const op = history[deepest.stuckAt]!;
  return `after linearizing ${deepest.depth} of ${history.length} operations, none fits before ${JSON.stringify(op)}`;
}

/** Calls and returns in time order (a call first when they tie); unknown outcomes return after everything. */
function buildEventList<Op>(history: readonly TimedOperation<Op>[]): Cell {
  const events: { time: number; cell: Cell }[] = [];
  history.forEach((operation, op) => {
    const ret: Cell = { op, isCall: false, match: null, prev: null, next: null };
    const call: Cell = { op, isCall: true, match: ret, prev: null, next: null };
    events.push({ time: operation.invoke, cell: call });
    events.push({ time: operation.complete ?? Number.POSITIVE_INFINITY, cell: ret });
  });
  events.sort((a, b) => a.time - b.time || Number(b.cell.isCall) - Number(a.cell.isCall));
  const head: Cell = { op: -1, isCall: false, match: null, prev: null, next: null };
  let last = head;
  for (const { cell } of events) {
    last.next = cell;
    cell.prev = last;
    last = cell;
  }
  return head;
}

/** Takes a call and its return out of the list. */
function lift(call: Cell): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Puts them back: exactly the reverse of `lift`. */
function unlift(call: Cell): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/** Records a configuration; false if it was explored before. */
function remember(seen: Map<string, Uint32Array[]>, linearized: OpSet, stateKey: string): boolean {
  const key = `${linearized.hash()}|${stateKey}`;
  const bucket = seen.get(key);
  if (!bucket) {
    seen.set(key, [linearized.snapshot()]);
    return true;
  }
  if (bucket.some((bits) => linearized.equals(bits))) return false;
  bucket.push(linearized.snapshot());
  return true;
}

/** A set of operation numbers as a bitset, with an incrementally maintained (Zobrist) hash. */
class OpSet {
  private readonly bits: Uint32Array;
  private readonly salts: Uint32Array;
  private hashLow = 0;
  private hashHigh = 0;

  constructor(size: number) {
    this.bits = new Uint32Array(Math.ceil(size / 32));
    this.salts = new Uint32Array(size * 2);
    let x = 0x9e3779b9;
    for (let i = 0; i < this.salts.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.salts[i] = x >>> 0;
    }
  }

  add(op: number): void {
    this.bits[op >>> 5]! |= 1 << (op & 31);
    this.toggleHash(op);
  }

  remove(op: number): void {
    this.bits[op >>> 5]! &= ~(1 << (op & 31));
    this.toggleHash(op);
  }

  hash(): string {
    return `${this.hashLow.toString(36)}.${this.hashHigh.toString(36)}`;
  }

  snapshot(): Uint32Array {
    return this.bits.slice();
  }

  equals(other: Uint32Array): boolean {
    for (let i = 0; i < this.bits.length; i++) if (this.bits[i] !== other[i]) return false;
    return true;
  }

  private toggleHash(op: number): void {
    this.hashLow = (this.hashLow ^ this.salts[2 * op]!) >>> 0;
    this.hashHigh = (this.hashHigh ^ this.salts[2 * op + 1]!) >>> 0;
  }
}

/** A register with put, get and compare-and-set (a failed cas reports the value it found). */
export const registerModel: Model<string | null, KvOperation> = {
  init: null,
  key: (state) => (state === null ? '\u0000' : state),
  step(state, op) {
    switch (op.kind) {
      case 'put':
        return op.value;
      case 'get':
        return op.result === state ? state : undefined;
      case 'cas':
        if (op.result === null) return state === op.expected ? op.value : state;
        if (op.result.ok) return state === op.expected ? op.value : undefined;
        return state !== op.expected && state === op.result.current ? state : undefined;
    }
  },
};

/**
 * Checks a key-value history one key at a time (linearizability is compositional). Writes whose outcome is
 * unknown and whose value nobody ever observed are dropped first: with unique values and every completed
 * operation observing the register, nothing could come between such a write and the next one, so it can as
 * well be placed last, and leaving it out only shrinks the search.
 */
export function checkKvHistory(history: readonly HistoryEntry[], budget?: number): CheckResult {
  const byKey = new Map<string, HistoryEntry[]>();
  for (const entry of history) {
    const list = byKey.get(entry.key) ?? [];
    list.push(entry);
    byKey.set(entry.key, list);
  }
  for (const [key, entries] of byKey) {
    const result = checkLinearizable(withoutUnobservedUnknowns(entries), registerModel, budget);
    if (!result.ok) return { ...result, detail: `key ${key}: ${result.detail}` };
  }
  return { ok: true };
}

function withoutUnobservedUnknowns(entries: readonly HistoryEntry[]): HistoryEntry[] {
  const observed = new Set<string | null>();
  for (const { op } of entries) {
    if (op.kind === 'get') observed.add(op.result);
    // A cas of unknown outcome that took effect saw its expected value.
    else if (op.kind === 'cas')
      observed.add(op.result === null || op.result.ok ? op.expected : op.result.current);
  }
  return entries.filter(
    (entry) => entry.complete !== null || entry.op.kind === 'get' || observed.has(entry.op.value),
  );
}
