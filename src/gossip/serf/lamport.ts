/** A Lamport clock as serf keeps three of them (members, events, queries). */
export class LamportClock {
  private counter = 0;

  time(): number {
    return this.counter;
  }

  /** Advances the clock and returns the new time, for a message this node originates. */
  increment(): number {
    return ++this.counter;
  }

  /** Moves the clock past a time seen in a message, so later messages of ours order after it. */
  witness(time: number): void {
    if (time >= this.counter) this.counter = time + 1;
  }
}
