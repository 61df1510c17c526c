import { requireCount } from './checks.ts';
import { StorageError } from './errors.ts';
import type { LogEntry } from './types.ts';

// How one entry is stored under its index: a fixed header, then the type, then the data as is.
//
//   u8 format (1) | u32 term high | u32 term low | u16 type length | type (UTF-8) | data
//
// The term sits at a fixed offset so `term(i)` reads 9 bytes without decoding (or copying) the data, and the
// data needs no escaping, so a large entry costs one copy into the database and none out of it.

const FORMAT = 1;
const HEADER_BYTES = 11;
const MAX_TYPE_BYTES = 0xffff;
const TERM_SPLIT = 2 ** 32;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeEntry(entry: LogEntry): Uint8Array {
  requireCount(entry.term, `term of entry ${entry.index}`);
  if (typeof entry.type !== 'string') throw new StorageError(`type of entry ${entry.index} must be a string`);
  if (!(entry.data instanceof Uint8Array)) {
    throw new StorageError(`data of entry ${entry.index} must be a Uint8Array`);
  }
  const type = utf8.encode(entry.type);
  if (type.length > MAX_TYPE_BYTES) {
    throw new StorageError(`type of entry ${entry.index} is ${type.length} bytes; at most ${MAX_TYPE_BYTES}`);
  }
  const bytes = new Uint8Array(HEADER_BYTES + type.length + entry.data.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, FORMAT);
  view.setUint32(1, Math.floor(entry.term / TERM_SPLIT));
  view.setUint32(5, entry.term % TERM_SPLIT);
  view.setUint16(9, type.length);
  bytes.set(type, HEADER_BYTES);
  bytes.set(entry.data, HEADER_BYTES + type.length);
  return bytes;
}

/** The term of a stored entry. `bytes.length` may be shorter than its buffer (lmdb-js's reused read buffer). */
export function entryTerm(index: number, bytes: Uint8Array): number {
  return header(index, bytes).term;
}

/** The stored entry; `data` is a view into `bytes`, which must not be reused afterwards. */
export function decodeEntry(index: number, bytes: Uint8Array): LogEntry {
  const { term, typeLength } = header(index, bytes);
  const typeEnd = HEADER_BYTES + typeLength;
  let type: string;
  try {
    type = fromUtf8.decode(bytes.subarray(HEADER_BYTES, typeEnd));
  } catch {
    throw corrupt(index, 'its type is not valid UTF-8');
  }
  return { index, term, type, data: bytes.subarray(typeEnd, bytes.length) };
}

function header(index: number, bytes: Uint8Array): { term: number; typeLength: number } {
  if (bytes.length < HEADER_BYTES) throw corrupt(index, `it is ${bytes.length} bytes, shorter than a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const format = view.getUint8(0);
  if (format !== FORMAT) throw corrupt(index, `unknown format ${format}`);
  const term = view.getUint32(1) * TERM_SPLIT + view.getUint32(5);
  const typeLength = view.getUint16(9);
  if (HEADER_BYTES + typeLength > bytes.length) throw corrupt(index, 'its type runs past its end');
  return { term, typeLength };
}

function corrupt(index: number, why: string): StorageError {
  return new StorageError(`raft log entry ${index} is corrupt: ${why}`);
}
