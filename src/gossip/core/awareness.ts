/**
 * Lifeguard's local health score: 0 is healthy, `max − 1` the worst. Missed nacks, failed probes and having
 * to refute an accusation raise it; every probe answered lowers it. Timeouts scale by score + 1.
 */
export class Awareness {
  private score = 0;

  constructor(private readonly max: number) {}

  applyDelta(delta: number): void {
    this.score = Math.min(Math.max(this.score + delta, 0), Math.max(this.max - 1, 0));
  }

  get healthScore(): number {
    return this.score;
  }

  scaleTimeout(timeoutMs: number): number {
    return timeoutMs * (this.score + 1);
  }
}
