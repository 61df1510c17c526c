import { Decoder } from '@msgpack/msgpack';
import { GossipCodecError, messageOf } from './errors.ts';
import { scanValue } from './msgpack-scan.ts';

// msgpack exactly as memberlist and serf write it: hashicorp/go-msgpack (ugorji's 2013 codec) with a zero
// MsgpackHandle. WriteExt is off, so Go strings and []byte alike are written in the old spec's "raw" form:
// fixstr below 32 bytes, then raw16 (0xda) and raw32 (0xdb) — never str8 (0xd9) or bin, which that codec
// only writes with WriteExt. Unsigned values use the smallest of fixint/uint8/16/32/64; signed values that
// are not negative are written the same way. Peers decode whatever we write; writing the same bytes they
// do keeps captures comparable and avoids the forms an old decoder might refuse.

const utf8 = new TextEncoder();

export class GoMsgpackWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  /** A copy of everything written. */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }

  byte(b: number): this {
    this.#room(1);
    this.#buf[this.#len++] = b;
    return this;
  }

  /** Appends bytes as they are (not a msgpack value). */
  append(bytes: Uint8Array): this {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  #be(value: number, width: 2 | 4): void {
    this.#room(width);
    for (let i = width - 1; i >= 0; i--) this.#buf[this.#len++] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  }

  nil(): this {
    return this.byte(0xc0);
  }

  bool(value: boolean): this {
    return this.byte(value ? 0xc3 : 0xc2);
  }

  /** A non-negative integer up to 2^53 - 1, in go-msgpack's smallest unsigned form. */
  uint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new GossipCodecError('encode', `${value} is not an unsigned integer msgpack can carry here`);
    }
    if (value <= 0x7f) return this.byte(value);
    if (value <= 0xff) return this.byte(0xcc).byte(value);
    if (value <= 0xffff) {
      this.byte(0xcd).#be(value, 2);
      return this;
    }
    if (value <= 0xffff_ffff) {
      this.byte(0xce).#be(value, 4);
      return this;
    }
    this.byte(0xcf).#be(Math.floor(value / 2 ** 32), 4);
    this.#be(value % 2 ** 32, 4);
    return this;
  }

  /** A signed integer: non-negative values as uint (go-msgpack does the same), negative ones as Go would. */
  int(value: number): this {
    if (!Number.isSafeInteger(value)) {
      throw new GossipCodecError('encode', `${value} is not an integer msgpack can carry here`);
    }
    if (value >= 0) return this.uint(value);
    if (value >= -32) return this.byte(value & 0xff);
    if (value >= -0x80) return this.byte(0xd0).byte(value & 0xff);
    if (value >= -0x8000) {
      this.byte(0xd1).#be(value + 0x1_0000, 2);
      return this;
    }
    if (value >= -0x8000_0000) {
      this.byte(0xd2).#be(value + 0x1_0000_0000, 4);
      return this;
    }
    const big = BigInt.asUintN(64, BigInt(value));
    this.byte(0xd3).#be(Number(big >> 32n), 4);
    this.#be(Number(big & 0xffff_ffffn), 4);
    return this;
  }

  float64(value: number): this {
    this.#room(9);
    this.#buf[this.#len++] = 0xcb;
    new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#len, 8).setFloat64(0, value);
    this.#len += 8;
    return this;
  }

  /** A Go string or []byte: a legacy raw string (fixstr, raw16 or raw32). */
  raw(bytes: Uint8Array): this {
    const n = bytes.length;
    if (n < 32) this.byte(0xa0 | n);
    else if (n <= 0xffff) this.byte(0xda).#be(n, 2);
    else if (n <= 0xffff_ffff) this.byte(0xdb).#be(n, 4);
    else throw new GossipCodecError('encode', `a ${n}-byte string is too long for msgpack`);
    return this.append(bytes);
  }

  string(value: string): this {
    return this.raw(utf8.encode(value));
  }

  mapHeader(pairs: number): this {
    if (pairs < 16) return this.byte(0x80 | pairs);
    if (pairs <= 0xffff) this.byte(0xde).#be(pairs, 2);
    else this.byte(0xdf).#be(pairs, 4);
    return this;
  }

  arrayHeader(items: number): this {
    if (items < 16) return this.byte(0x90 | items);
    if (items <= 0xffff) this.byte(0xdc).#be(items, 2);
    else this.byte(0xdd).#be(items, 4);
    return this;
  }
}

// rawStrings: raw strings arrive as Uint8Array (memberlist's []byte fields may hold any bytes); the field
// readers turn them into text where the Go field is a string. Map keys still decode as text.
const decoder = new Decoder({ rawStrings: true });

/** Decodes bytes[start, end), which the scanner has already found to be exactly one value. */
export function decodeScanned(bytes: Uint8Array, start: number, end: number): unknown {
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch (error) {
    throw new GossipCodecError('malformed', `undecodable msgpack: ${messageOf(error)}`);
  }
}

/** Scans and decodes the one msgpack value at `start`; returns it and its end. */
export function decodeValueAt(bytes: Uint8Array, start: number): { value: unknown; end: number } {
  const end = scanValue(bytes, start);
  return { value: decodeScanned(bytes, start, end), end };
}

/** Decodes a buffer holding exactly one msgpack value. */
export function decodeValue(bytes: Uint8Array): unknown {
  const { value, end } = decodeValueAt(bytes, 0);
  if (end !== bytes.length) {
    throw new GossipCodecError('malformed', `${bytes.length - end} bytes follow the msgpack value`);
  }
  return value;
}
