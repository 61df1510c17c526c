import { GossipCodecError } from './errors.ts';

// LZW as Go's compress/lzw writes and reads it with LSB bit order and 8-bit literals, the format of
// memberlist's compress messages. Codes start 9 bits wide; 256 is Clear and 257 End; new codes are numbered
// from 258. Two details must match Go's exactly or the peer reads garbage:
//   - the writer widens codes right after the code that brings the next free code to 2^width, and on
//     reaching code 4095 it emits Clear (at 12 bits) and starts over;
//   - the reader defines each new code one step later than the writer, and at 12 bits with no room left it
//     stops defining codes until the next Clear (it never fails for that).
// Current Go writers emit a Clear first; older ones did not, and the reader accepts both.

const CLEAR = 256;
const END = 257;
const FIRST_WIDTH = 9;
const MAX_WIDTH = 12;
/** The writer resets on reaching this code, so codes stay below 4096. */
const MAX_CODE = (1 << MAX_WIDTH) - 1;
const NONE = -1;

/** Packs codes of varying width, least significant bit first. */
class BitWriter {
  #out: Uint8Array;
  #len = 0;
  #bits = 0;
  #count = 0;

  constructor(sizeHint: number) {
    this.#out = new Uint8Array(Math.max(16, sizeHint));
  }

  write(code: number, width: number): void {
    this.#bits |= code << this.#count;
    this.#count += width;
    while (this.#count >= 8) {
      this.#push(this.#bits & 0xff);
      this.#bits >>>= 8;
      this.#count -= 8;
    }
  }

  #push(byte: number): void {
    if (this.#len === this.#out.length) {
      const grown = new Uint8Array(this.#out.length * 2);
      grown.set(this.#out);
      this.#out = grown;
    }
    this.#out[this.#len++] = byte;
  }

  finish(): Uint8Array {
    if (this.#count > 0) this.#push(this.#bits & 0xff);
    return this.#out.slice(0, this.#len);
  }
}

export function lzwCompress(input: Uint8Array): Uint8Array {
  const out = new BitWriter(input.length / 2 + 8);
  /** (prefix code << 8 | next byte) → the code for that string. */
  const table = new Map<number, number>();
  let width = FIRST_WIDTH;
  let hi = END; // the last code assigned
  let overflow = 1 << FIRST_WIDTH;

  /** After each emitted code the next code is assigned; false when that exhausted the codes and reset. */
  const nextCode = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      out.write(CLEAR, width);
      width = FIRST_WIDTH;
      hi = END;
      overflow = 1 << FIRST_WIDTH;
      table.clear();
      return false;
    }
    return true;
  };

  out.write(CLEAR, width);
  if (input.length === 0) {
    out.write(END, width);
    return out.finish();
  }
  let code = input[0]!;
  for (let i = 1; i < input.length; i++) {
    const byte = input[i]!;
    const key = (code << 8) | byte;
    const known = table.get(key);
    if (known !== undefined) {
      code = known;
      continue;
    }
    out.write(code, width);
    code = byte;
    if (nextCode()) table.set(key, hi);
  }
  out.write(code, width);
  nextCode();
  out.write(END, width);
  return out.finish();
}

/**
 * Decompresses, refusing to produce more than `maxBytes` (a few kilobytes of LZW can describe megabytes).
 * Bytes after the End code are ignored, as Go ignores them; a stream without one is truncated.
 */
export function lzwDecompress(input: Uint8Array, maxBytes: number): Uint8Array {
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  /** One code's expansion, written backwards from the end. */
  const scratch = new Uint8Array(1 << MAX_WIDTH);
  let out = new Uint8Array(Math.min(maxBytes, Math.max(64, input.length * 4)));
  let len = 0;

  let width = FIRST_WIDTH;
  let hi = END;
  let overflow = 1 << FIRST_WIDTH;
  let last = NONE;
  let bits = 0;
  let count = 0;
  let at = 0;

  const emit = (from: Uint8Array, start: number, end: number) => {
    const n = end - start;
    if (len + n > maxBytes) {
      throw new GossipCodecError('limit', `compressed data opens into more than ${maxBytes} bytes`);
    }
    if (len + n > out.length) {
      const grown = new Uint8Array(Math.min(maxBytes, Math.max(out.length * 2, len + n)));
      grown.set(out.subarray(0, len));
      out = grown;
    }
    out.set(from.subarray(start, end), len);
    len += n;
  };

  for (;;) {
    while (count < width) {
      if (at >= input.length) throw new GossipCodecError('decompress', 'LZW data ends without an End code');
      bits |= input[at++]! << count;
      count += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    count -= width;

    if (code < CLEAR) {
      scratch[0] = code;
      emit(scratch, 0, 1);
      if (last !== NONE) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code === CLEAR) {
      width = FIRST_WIDTH;
      hi = END;
      overflow = 1 << FIRST_WIDTH;
      last = NONE;
      continue;
    } else if (code === END) {
      return out.slice(0, len);
    } else if (code <= hi) {
      let i = scratch.length - 1;
      let c = code;
      if (code === hi && last !== NONE) {
        // The code being defined right now: the last string plus that string's first byte.
        c = last;
        while (c >= CLEAR) c = prefix[c]!;
        scratch[i--] = c;
        c = last;
      }
      while (c >= CLEAR) {
        scratch[i--] = suffix[c]!;
        c = prefix[c]!;
      }
      scratch[i] = c;
      emit(scratch, i, scratch.length);
      if (last !== NONE) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      throw new GossipCodecError('decompress', `LZW code ${code} is not defined yet`);
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        // No room for more codes: stop defining them until a Clear.
        last = NONE;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
}
