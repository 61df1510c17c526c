import type { Entry } from '../core/types.ts';

// Promises the driver settles as the log moves: proposals waiting for their entry to apply, and callers
// waiting for the state machine to reach an index.

interface Deferred<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/** hashicorp/raft's ErrLeadershipLost: the entry may or may not commit, and its proposer cannot tell. */
export const LEADERSHIP_LOST = 'leadership lost while committing log';

/** Proposals by log index. An entry is its proposal only if the term matches: same index and term, same entry. */
export class Proposals<T> {
  private readonly pending = new Map<number, { term: number } & Deferred<T>>();

  add(index: number, term: number): Promise<T> {
    return new Promise<T>((resolve, reject) => this.pending.set(index, { term, resolve, reject }));
  }

  /** The entry at `index` was applied with `outcome`. */
  applied(entry: Entry, outcome: T): void {
    const proposal = this.pending.get(entry.index);
    if (!proposal) return;
    this.pending.delete(entry.index);
    if (proposal.term === entry.term) proposal.resolve(outcome);
    else proposal.reject(new Error(LEADERSHIP_LOST));
  }

  /** The log was rewritten from `entries[0].index` on: proposals there that lost their slot fail now. */
  overwritten(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first || this.pending.size === 0) return;
    for (const [index, proposal] of this.pending) {
      if (index < first.index) continue;
      if (entries[index - first.index]?.term === proposal.term) continue;
      this.pending.delete(index);
      proposal.reject(new Error(LEADERSHIP_LOST));
    }
  }

  /** A snapshot replaced the log through `index`: what was proposed there has an unknown fate. */
  failThrough(index: number): void {
    for (const [at, proposal] of this.pending) {
      if (at > index) continue;
      this.pending.delete(at);
      proposal.reject(new Error(LEADERSHIP_LOST));
    }
  }

  failAll(error: Error): void {
    for (const proposal of this.pending.values()) proposal.reject(error);
    this.pending.clear();
  }
}

/** Callers waiting until the state machine has applied an index. */
export class AppliedWaiters {
  private waiting: ({ index: number } & Deferred<void>)[] = [];

  wait(index: number, applied: number): Promise<void> {
    if (applied >= index) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.push({ index, resolve, reject }));
  }

  notify(applied: number): void {
    if (this.waiting.length === 0) return;
    const still: typeof this.waiting = [];
    for (const waiter of this.waiting) {
      if (waiter.index <= applied) waiter.resolve();
      else still.push(waiter);
    }
    this.waiting = still;
  }

  /** Fails every waiter: the server stopped. */
  failAll(error: Error): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const waiter of waiting) waiter.reject(error);
  }
}

/** ReadIndex requests by request ID, answered with the index to read at. */
export class ReadRequests {
  private readonly pending = new Map<string, Deferred<number>>();
  private seq = 0;

  constructor(private readonly prefix: string) {}

  nextId(): string {
    return `${this.prefix}/${++this.seq}`;
  }

  add(requestId: string): Promise<number> {
    return new Promise((resolve, reject) => this.pending.set(requestId, { resolve, reject }));
  }

  answer(requestId: string, index: number): void {
    this.pending.get(requestId)?.resolve(index);
    this.pending.delete(requestId);
  }

  fail(requestId: string, error: Error): void {
    this.pending.get(requestId)?.reject(error);
    this.pending.delete(requestId);
  }

  failAll(error: Error): void {
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }
}

/** Wakes everyone waiting for the next change (of leader, role or term). */
export class ChangeSignal {
  private waiters = new Set<() => void>();

  /** Resolves on the next change or after `timeoutMs`, whichever comes first. */
  next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
    });
  }

  fire(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
