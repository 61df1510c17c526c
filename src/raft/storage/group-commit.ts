import { StorageError } from './errors.ts';

export interface CommitStats {
  /** Writes submitted. */
  writes: number;
  /** Durable commits that carried them (each one fsync round). */
  commits: number;
}

interface Queued<Job> {
  job: Job;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Group commit: one commit is in flight at a time, and every write submitted meanwhile waits for it and then
 * goes into the next one together with the others, so N concurrent writers pay far fewer than N fsyncs.
 * Jobs commit in submission order. Writes submitted in the same synchronous turn share a commit even when
 * nothing is in flight (the first commit starts on a microtask).
 *
 * If a commit fails, nobody knows what reached the disk, so every later write is refused: the owner must be
 * reopened from what is actually there.
 */
export class GroupCommit<Job> {
  readonly stats: CommitStats = { writes: 0, commits: 0 };
  private queue: Queued<Job>[] = [];
  private running: Promise<void> | null = null;
  private failure: StorageError | null = null;

  constructor(private readonly commitBatch: (jobs: Job[]) => Promise<void>) {}

  submit(job: Job): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.stats.writes++;
    const done = new Promise<void>((resolve, reject) => this.queue.push({ job, resolve, reject }));
    this.running ??= Promise.resolve().then(() => this.drain());
    return done;
  }

  /** Resolves when every write submitted so far has committed or failed. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.commitBatch(batch.map((queued) => queued.job));
      } catch (err) {
        this.fail(err, batch);
        break;
      }
      this.stats.commits++;
      for (const queued of batch) queued.resolve();
    }
    this.running = null;
  }

  private fail(err: unknown, batch: Queued<Job>[]): void {
    this.failure = new StorageError(`durable commit failed; no further writes are accepted: ${String(err)}`, {
      cause: err,
    });
    for (const queued of [...batch, ...this.queue]) queued.reject(this.failure);
    this.queue = [];
  }
}
