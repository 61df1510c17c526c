import { performance } from 'node:perf_hooks';

/**
 * Counts elapsed intervals on the monotonic clock and reports how many are due, so the core gets one tick
 * per interval even when a timer fires late: after an event-loop stall it catches up at once. The core's
 * lease is sound only if it never sees fewer ticks than time has passed.
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private delivered = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly onTicks: (count: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    if (this.timer) return;
    this.startedAt = this.now();
    this.delivered = 0;
    this.timer = setInterval(() => this.fire(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Delivers the ticks due by now; called by the timer, and usable directly. */
  fire(): void {
    const due = Math.floor((this.now() - this.startedAt) / this.intervalMs) - this.delivered;
    if (due <= 0) return;
    this.delivered += due;
    this.onTicks(due);
  }
}
