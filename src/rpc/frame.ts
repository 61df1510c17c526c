import { RpcProtocolError } from './errors.ts';

// The wire unit: a 4-byte big-endian body length, then the body. The decoder rejects a frame from its
// length prefix alone, so a peer that claims gigabytes costs us four bytes, not an allocation.

const FRAME_HEADER_BYTES = 4;

/** Prefixes a body with its length. */
export function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/** Reassembles frame bodies from a byte stream cut at arbitrary points. */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being read, or -1 while its header is incomplete. */
  private expected = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** True while part of a frame is buffered. */
  get partial(): boolean {
    return this.expected >= 0 || this.buffered > 0;
  }

  /** Adds bytes and returns the bodies they complete; throws on a length over the limit. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const bodies: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          throw new RpcProtocolError(
            'frame_too_large',
            `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes`,
          );
        }
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      bodies.push(this.take(this.expected));
      this.expected = -1;
    }
    return bodies;
  }

  /** Removes the next n buffered bytes, copying only when they span chunks. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let filled = 0; filled < n; ) {
      const chunk = this.chunks[0]!;
      const count = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, count);
      filled += count;
      if (count === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(count);
    }
    return out;
  }
}
