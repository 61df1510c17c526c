// Flow control for one stream, both ends. The receiver grants credit in bytes; the sender sends payload
// only against credit. So the receiver never holds more than its window per stream however slowly its
// handler consumes, and a slow stream stalls only itself, not the other calls on the same connection.

/**
 * What each chunk costs in credit beyond its bytes, on both ends: a queued chunk costs memory of its own, so
 * without this a sender of one-byte chunks could make the receiver queue millions of objects in one window.
 */
export const CHUNK_COST = 128;

/** Sender side: payload bytes the receiver has allowed and we have not used yet. */
export class Credit {
  private available = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  grant(bytes: number): void {
    this.available += bytes;
    this.wake?.();
  }

  /** Makes waiting senders, and later ones, throw: the stream is over. */
  fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }

  /** Waits until a chunk fits in the credit and returns how many payload bytes (at most max) it may carry. */
  async take(max: number): Promise<number> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.available > CHUNK_COST) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
    const bytes = Math.min(max, this.available - CHUNK_COST);
    this.available -= bytes + CHUNK_COST;
    return bytes;
  }
}

/** Receiver side: chunks queued for the handler, credit handed back as the handler gets through them. */
export class ChunkInbox implements AsyncIterable<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  /** Credit the sender still has: the window less what is queued or being processed. */
  private credit: number;
  /** Bytes processed by the handler and not yet granted back; granted in batches to save frames. */
  private processed = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly window: number,
    private readonly grant: (bytes: number) => void,
  ) {
    this.credit = window;
    grant(window);
  }

  /** Queues a chunk; false means the sender overran its credit. */
  push(data: Uint8Array): boolean {
    if (this.ended) return true;
    this.credit -= data.length + CHUNK_COST;
    if (this.credit < 0) return false;
    this.queue.push(data);
    this.wake?.();
    return true;
  }

  /** Ends the payload; with an error, the handler's next step of iteration throws it. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      // An abandoned payload is useless: fail at once rather than after the queued part of it.
      if (this.failure) throw this.failure;
      const chunk = this.queue.shift();
      if (chunk) {
        yield chunk;
        this.release(chunk.length + CHUNK_COST);
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
    }
  }

  private release(bytes: number): void {
    this.processed += bytes;
    if (this.processed * 4 < this.window) return;
    this.credit += this.processed;
    this.grant(this.processed);
    this.processed = 0;
  }
}
