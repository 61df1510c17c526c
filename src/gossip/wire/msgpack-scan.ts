import { MSGPACK_SHAPES, typeByte } from '../../util/msgpack-shapes.ts';
import { GossipCodecError } from './errors.ts';
import { MAX_DEPTH } from './limits.ts';

// @msgpack/msgpack preallocates `new Array(n)` for an array header before reading any item, so a few bytes
// claiming 4 billion items can exhaust the heap. The scanner walks one value first, building nothing: every
// container's claimed items must fit in the bytes allowed, nesting is bounded, and the value's end is found.
// That end is also how streams are split: memberlist writes msgpack values back to back with no lengths.
//
// It is resumable: fed a buffer that keeps growing (a TCP stream), it continues where it stopped instead
// of walking the value again, so reading a large push/pull costs time in proportion to its size.

// Not in the shapes, so refused: 0xc1 (never used); and the ext types are refused too, since memberlist and
// serf never write them.
const SHAPES = new Map([...MSGPACK_SHAPES].filter(([, shape]) => !shape.ext));

export class MsgpackScanner {
  #pos: number;
  /** Items still to read in each enclosing container, innermost last. */
  readonly #open: number[] = [];
  #left = 1;
  #end: number | undefined;

  /**
   * @param start offset of the value in the buffers passed to advance
   * @param limit the value must end at or before this offset
   */
  constructor(
    start: number,
    private readonly limit: number,
    private readonly maxDepth = MAX_DEPTH,
    /** What running past the limit means: a value too large, or (for a complete message) one cut short. */
    private readonly pastLimit: 'limit' | 'truncated' = 'limit',
  ) {
    this.#pos = start;
  }

  /**
   * Continues over `bytes` (the same buffer as before, possibly longer). Returns the offset just past the
   * value once it is complete, or undefined when more bytes are needed. Throws for malformed input and for
   * values that cannot fit within the limit.
   */
  advance(bytes: Uint8Array): number | undefined {
    if (this.#end !== undefined) return this.#end;
    const available = Math.min(bytes.length, this.limit);
    for (;;) {
      if (this.#left === 0) {
        const outer = this.#open.pop();
        if (outer === undefined) {
          this.#end = this.#pos;
          return this.#end;
        }
        this.#left = outer;
        continue;
      }
      const pos = this.#pos;
      if (pos >= available) return this.#needMore(pos + 1);
      const type = bytes[pos]!;
      let header = 1;
      const announced = typeByte(type, SHAPES);
      let skip = announced.fixed ? announced.skip : 0;
      let items = announced.fixed ? announced.items : 0;
      if (!announced.fixed) {
        const { shape } = announced;
        if (shape === undefined) {
          throw new GossipCodecError('malformed', `msgpack type byte 0x${type.toString(16)} is never sent`);
        }
        header += shape.fixed;
        if (shape.lengthBytes !== undefined) {
          if (pos + 1 + shape.lengthBytes > available) return this.#needMore(pos + 1 + shape.lengthBytes);
          const length = readLength(bytes, pos + 1, shape.lengthBytes);
          header += shape.lengthBytes;
          if (shape.items === undefined) skip = length;
          else items = length * shape.items;
        }
      }
      const next = pos + header + skip;
      if (next > available) return this.#needMore(next);
      if (items > 0) {
        if (this.#open.length >= this.maxDepth) {
          throw new GossipCodecError('limit', `msgpack nested deeper than ${this.maxDepth}`);
        }
        // Each item takes at least one byte: a count the bytes cannot hold is refused before any decoding.
        if (next + items > this.limit) this.#needMore(next + items);
        this.#open.push(this.#left - 1);
        this.#left = items;
      } else {
        this.#left--;
      }
      this.#pos = next;
    }
  }

  /** The value cannot be complete yet: wait for more bytes, unless it could never fit. */
  #needMore(needed: number): undefined {
    if (needed > this.limit) {
      throw this.pastLimit === 'limit'
        ? new GossipCodecError('limit', `msgpack value runs past its ${this.limit}-byte limit`)
        : new GossipCodecError('truncated', 'msgpack value runs past the end of its message');
    }
    return undefined;
  }
}

function readLength(bytes: Uint8Array, at: number, width: 1 | 2 | 4): number {
  if (width === 1) return bytes[at]!;
  if (width === 2) return (bytes[at]! << 8) | bytes[at + 1]!;
  return ((bytes[at]! << 24) >>> 0) + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

/** The end of the complete value at `start`; throws 'truncated' when the bytes stop before it does. */
export function scanValue(bytes: Uint8Array, start: number, maxDepth = MAX_DEPTH): number {
  const end = new MsgpackScanner(start, bytes.length, maxDepth, 'truncated').advance(bytes);
  if (end === undefined) {
    throw new GossipCodecError('truncated', 'msgpack value is cut short');
  }
  return end;
}
