/**
 * Consul's one-shot acquisition (a lock or semaphore with a timeout): the first read waits the whole time,
 * each later one what is left, and once none is left the attempt gives up.
 */
export class WaitBudget {
  private readonly started = Date.now();
  private attempts = 0;

  constructor(
    private readonly waitMs: number,
    private readonly once: boolean,
  ) {}

  /** The wait for the next read, as a Go duration; undefined once a one-shot attempt has used its time. */
  next(): string | undefined {
    const elapsed = Date.now() - this.started;
    if (this.once && this.attempts > 0 && elapsed > this.waitMs) return undefined;
    const waitMs = this.once && this.attempts > 0 ? this.waitMs - elapsed : this.waitMs;
    this.attempts++;
    return `${Math.max(1, Math.round(waitMs))}ms`;
  }
}
