import { GossipCodecError } from './errors.ts';
import type { GoMsgpackWriter } from './go-msgpack.ts';
import { MAX_NAME_BYTES } from './limits.ts';

// Go structs travel as msgpack maps keyed by field name. Reading follows go-msgpack: a missing or nil field
// is the Go zero value, unknown keys are ignored, integers must fit the Go type, and raw strings become
// text only where the Go field is a string. Writing follows it too: keys in sorted order (go-msgpack walks
// a struct's fields sorted by name when it writes a map) and `omitempty` fields left out when empty.

const text = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

const malformed = (message: string) => new GossipCodecError('malformed', message);

function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Date)
  );
}

/** Reads the fields of one decoded struct, naming `struct.field` in every error. */
export class StructReader {
  readonly #map: Record<string, unknown>;

  constructor(
    readonly struct: string,
    value: unknown,
  ) {
    if (!isMap(value)) throw malformed(`${struct} is not a msgpack map`);
    this.#map = value;
  }

  /** The raw field value, or undefined when missing or nil. */
  get(field: string): unknown {
    if (!Object.hasOwn(this.#map, field)) return undefined;
    const value = this.#map[field];
    return value === null ? undefined : value;
  }

  #integer(field: string, min: number, max: number): number {
    return toInteger(this.get(field), `${this.struct}.${field}`, min, max);
  }

  u8(field: string): number {
    return this.#integer(field, 0, 0xff);
  }
  u16(field: string): number {
    return this.#integer(field, 0, 0xffff);
  }
  u32(field: string): number {
    return this.#integer(field, 0, 0xffff_ffff);
  }
  /** A Go uint64, accepted up to 2^53 - 1 (beyond that a JS number loses it). */
  u64(field: string): number {
    return this.#integer(field, 0, Number.MAX_SAFE_INTEGER);
  }
  /** A Go int (64-bit), accepted within ±(2^53 - 1). */
  int(field: string): number {
    return this.#integer(field, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }

  bool(field: string): boolean {
    const value = this.get(field);
    if (value === undefined) return false;
    // go-msgpack also reads the fixints 0 and 1 as booleans.
    if (value === true || value === 1) return true;
    if (value === false || value === 0) return false;
    throw malformed(`${this.struct}.${field} is not a boolean`);
  }

  bytes(field: string, maxBytes = Number.POSITIVE_INFINITY): Uint8Array {
    return toBytes(this.get(field), `${this.struct}.${field}`, maxBytes);
  }

  string(field: string, maxBytes = MAX_NAME_BYTES): string {
    return toText(this.get(field), `${this.struct}.${field}`, maxBytes);
  }

  /** A Go slice, nil as empty. */
  array(field: string): unknown[] {
    const value = this.get(field);
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw malformed(`${this.struct}.${field} is not an array`);
    return value;
  }

  /** A Go map, nil as empty. */
  map(field: string): Record<string, unknown> {
    const value = this.get(field);
    if (value === undefined) return {};
    if (!isMap(value)) throw malformed(`${this.struct}.${field} is not a map`);
    return value;
  }
}

/** A decoded integer within [min, max]; nil is Go's zero. */
export function toInteger(value: unknown, what: string, min: number, max: number): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw malformed(`${what} is not an integer`);
  if (value < min || value > max || !Number.isSafeInteger(value)) {
    throw malformed(`${what} = ${value} is out of range`);
  }
  return value;
}

/** A decoded raw string as bytes (a copy, so it does not pin the packet). */
export function toBytes(value: unknown, what: string, maxBytes = Number.POSITIVE_INFINITY): Uint8Array {
  if (value === undefined || value === null) return EMPTY;
  if (!(value instanceof Uint8Array)) throw malformed(`${what} is not a byte string`);
  if (value.length > maxBytes) {
    throw new GossipCodecError('limit', `${what} is ${value.length} bytes, over the ${maxBytes}-byte limit`);
  }
  // new Uint8Array copies; Buffer's slice would not.
  return new Uint8Array(value);
}

/** A decoded raw string as text; Go strings may hold any bytes, but Tribune keeps only valid UTF-8. */
export function toText(value: unknown, what: string, maxBytes = MAX_NAME_BYTES): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') {
    if (Buffer.byteLength(value) > maxBytes) throw new GossipCodecError('limit', `${what} is too long`);
    return value;
  }
  if (!(value instanceof Uint8Array)) throw malformed(`${what} is not a string`);
  if (value.length > maxBytes) {
    throw new GossipCodecError('limit', `${what} is ${value.length} bytes, over the ${maxBytes}-byte limit`);
  }
  try {
    return text.decode(value);
  } catch {
    throw malformed(`${what} is not valid UTF-8`);
  }
}

/** Writes one field's value; `what` names it in errors. */
export type FieldWriter = (w: GoMsgpackWriter, what: string) => void;

function ranged(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new GossipCodecError('encode', `${what} = ${value} does not fit its Go type`);
  }
  return value;
}

export const uint8 =
  (value: number): FieldWriter =>
  (w, what) =>
    w.uint(ranged(value, 0xff, what));
export const uint16 =
  (value: number): FieldWriter =>
  (w, what) =>
    w.uint(ranged(value, 0xffff, what));
export const uint32 =
  (value: number): FieldWriter =>
  (w, what) =>
    w.uint(ranged(value, 0xffff_ffff, what));
export const uint64 =
  (value: number): FieldWriter =>
  (w, what) =>
    w.uint(ranged(value, Number.MAX_SAFE_INTEGER, what));
export const int =
  (value: number): FieldWriter =>
  (w, what) => {
    if (!Number.isSafeInteger(value))
      throw new GossipCodecError('encode', `${what} = ${value} is not an int`);
    w.int(value);
  };
export const bool =
  (value: boolean): FieldWriter =>
  (w) =>
    w.bool(value);
export const str =
  (value: string): FieldWriter =>
  (w) =>
    w.string(value);
/** A Go []byte: empty is written as nil, as Go writes a slice it never filled (both read back empty). */
export const bytes =
  (value: Uint8Array): FieldWriter =>
  (w) =>
    value.length === 0 ? w.nil() : w.raw(value);
export const float64 =
  (value: number): FieldWriter =>
  (w) =>
    w.float64(value);

/** Writes a struct as go-msgpack does: fields sorted by name, undefined entries (omitempty) left out. */
export function writeStruct(
  w: GoMsgpackWriter,
  struct: string,
  fields: Record<string, FieldWriter | undefined>,
): void {
  const names = Object.keys(fields)
    .filter((name) => fields[name] !== undefined)
    .sort();
  w.mapHeader(names.length);
  for (const name of names) {
    w.string(name);
    fields[name]!(w, `${struct}.${name}`);
  }
}

/** For `omitempty` fields: the writer, or undefined when the value is Go's zero value. */
export function omitEmpty<T>(value: T, write: (value: T) => FieldWriter): FieldWriter | undefined {
  const empty =
    value === 0 || value === '' || value === false || (value instanceof Uint8Array && value.length === 0);
  return empty ? undefined : write(value);
}
