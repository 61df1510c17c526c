/**
 * The end of a handler's output, as Consul's agent keeps it for its log (a 4 KB circular buffer), with
 * Consul's note when more was written than kept.
 */
export class OutputTail {
  private kept = Buffer.alloc(0);
  private total = 0;

  constructor(private readonly limit = 4 * 1024) {}

  readonly add = (chunk: Buffer): void => {
    this.total += chunk.length;
    this.kept = Buffer.concat([this.kept, chunk]).subarray(-this.limit);
  };

  text(): string {
    const text = this.kept.toString('utf8');
    return this.total > this.limit ? `Captured ${this.limit} of ${this.total} bytes\n...\n${text}` : text;
  }
}
