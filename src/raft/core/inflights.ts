/** The appends sent to one follower and not yet acknowledged: the pipelining window. */
export class Inflights {
  /** Last index of each append in flight, ascending, with its size in bytes. */
  private lastIndexes: number[] = [];
  private sizes: number[] = [];
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  full(): boolean {
    return this.lastIndexes.length >= this.maxMessages || this.bytes >= this.maxBytes;
  }

  get count(): number {
    return this.lastIndexes.length;
  }

  add(lastIndex: number, bytes: number): void {
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** The follower acknowledged everything up to `index`. */
  freeTo(index: number): void {
    let freed = 0;
    while (freed < this.lastIndexes.length && this.lastIndexes[freed]! <= index) freed++;
    this.release(freed);
  }

  /** Makes room for one more append (used when heartbeats show the follower alive but acks got lost). */
  freeFirst(): void {
    this.release(Math.min(1, this.lastIndexes.length));
  }

  reset(): void {
    this.release(this.lastIndexes.length);
  }

  private release(count: number): void {
    for (let i = 0; i < count; i++) this.bytes -= this.sizes[i]!;
    this.lastIndexes.splice(0, count);
    this.sizes.splice(0, count);
  }
}
