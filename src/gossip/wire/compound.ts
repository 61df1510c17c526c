import { MessageType } from '../messages.ts';
import { GossipCodecError } from './errors.ts';
import { MAX_COMPOUND_PART_BYTES, MAX_COMPOUND_PARTS } from './limits.ts';

// Several messages in one packet: `[7][count u8][count × u16 big-endian length][parts...]`.

export function makeCompound(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length > MAX_COMPOUND_PARTS) {
    throw new GossipCodecError('encode', `a compound message holds at most ${MAX_COMPOUND_PARTS} parts`);
  }
  let size = 2 + 2 * parts.length;
  for (const part of parts) {
    if (part.length > MAX_COMPOUND_PART_BYTES) {
      throw new GossipCodecError('encode', `a ${part.length}-byte part does not fit a compound message`);
    }
    size += part.length;
  }
  const out = new Uint8Array(size);
  out[0] = MessageType.compound;
  out[1] = parts.length;
  let at = 2;
  for (const part of parts) {
    out[at++] = part.length >> 8;
    out[at++] = part.length & 0xff;
  }
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export interface CompoundParts {
  parts: Uint8Array[];
  /** Parts whose bytes the packet does not hold; memberlist keeps the whole ones before them. */
  truncated: number;
}

/** Splits the body of a compound message (the bytes after its type byte). */
export function splitCompound(body: Uint8Array): CompoundParts {
  if (body.length < 1) throw new GossipCodecError('truncated', 'compound message has no part count');
  const count = body[0]!;
  if (body.length < 1 + 2 * count)
    throw new GossipCodecError('truncated', 'compound message lengths are cut short');
  let at = 1 + 2 * count;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const length = (body[1 + 2 * i]! << 8) | body[2 + 2 * i]!;
    if (at + length > body.length) return { parts, truncated: count - i };
    parts.push(body.subarray(at, at + length));
    at += length;
  }
  return { parts, truncated: 0 };
}
