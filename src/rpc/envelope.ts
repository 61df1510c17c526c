import { Decoder, Encoder } from '@msgpack/msgpack';
import { messageOf, RpcEncodeError, RpcProtocolError } from './errors.ts';
import { frame } from './frame.ts';
import { checkMsgpack } from './msgpack-check.ts';

// What a frame body carries: a msgpack array whose first item is the kind's tag.
//
//   request  [0, id, method, body]    expects a response with the same id
//   response [1, id, error, body]     error is a string or nil
//   message  [2, method, body]        one-way; nothing comes back (Raft has its own acks)
//   stream   [3, id, method, body]    a request whose payload follows as chunks
//   chunk    [4, id, bytes]           a piece of stream id's payload; sent only against credit
//   end      [5, id, error]           the payload is complete, or (error set) abandoned by the sender
//   credit   [6, id, bytes]           the receiver allows that many more payload bytes
//
// Ids are u32s chosen by the caller; responses may come back in any order.

export type Envelope =
  | { kind: 'request'; id: number; method: string; body: unknown }
  | { kind: 'response'; id: number; error: string | null; body: unknown }
  | { kind: 'message'; method: string; body: unknown }
  | { kind: 'stream'; id: number; method: string; body: unknown }
  | { kind: 'chunk'; id: number; data: Uint8Array }
  | { kind: 'end'; id: number; error: string | null }
  | { kind: 'credit'; id: number; bytes: number };

export const MAX_ID = 0xffff_ffff;
export const MAX_METHOD_LENGTH = 256;
/** Deepest nesting accepted: the encoder's own limit, so whatever one side can send the other accepts. */
export const MAX_DEPTH = 100;

const encoder = new Encoder({ maxDepth: MAX_DEPTH });
const decoder = new Decoder();

/** Encodes an envelope as a complete frame; throws RpcEncodeError if it cannot be sent. */
export function encodeEnvelope(envelope: Envelope, maxFrameBytes: number): Buffer {
  let body: Uint8Array;
  try {
    body = encoder.encodeSharedRef(toWire(envelope));
  } catch (error) {
    throw new RpcEncodeError(`cannot encode ${envelope.kind}: ${messageOf(error)}`);
  }
  if (body.length > maxFrameBytes) {
    throw new RpcEncodeError(
      `${envelope.kind} of ${body.length} bytes exceeds the frame limit of ${maxFrameBytes} bytes`,
    );
  }
  return frame(body);
}

/** Decodes and validates a frame body; throws RpcProtocolError for anything that is not an envelope. */
export function decodeEnvelope(body: Uint8Array): Envelope {
  checkMsgpack(body, MAX_DEPTH);
  let value: unknown;
  try {
    value = decoder.decode(body);
  } catch (error) {
    throw malformed(`undecodable msgpack: ${messageOf(error)}`);
  }
  return fromWire(value);
}

function toWire(e: Envelope): unknown[] {
  switch (e.kind) {
    case 'request':
      return [0, e.id, e.method, e.body];
    case 'response':
      return [1, e.id, e.error, e.body];
    case 'message':
      return [2, e.method, e.body];
    case 'stream':
      return [3, e.id, e.method, e.body];
    case 'chunk':
      return [4, e.id, e.data];
    case 'end':
      return [5, e.id, e.error];
    case 'credit':
      return [6, e.id, e.bytes];
  }
}

function fromWire(value: unknown): Envelope {
  if (!Array.isArray(value) || value.length < 3) throw malformed('frame is not an envelope array');
  const [tag, a, b, c] = value as unknown[];
  const arity = tag === 0 || tag === 1 || tag === 3 ? 4 : 3;
  if (value.length !== arity) throw malformed(`envelope with tag ${String(tag)} has ${value.length} items`);
  switch (tag) {
    case 0:
      return { kind: 'request', id: id(a), method: method(b), body: c };
    case 1:
      return { kind: 'response', id: id(a), error: error(b), body: c };
    case 2:
      return { kind: 'message', method: method(a), body: b };
    case 3:
      return { kind: 'stream', id: id(a), method: method(b), body: c };
    case 4:
      if (!(b instanceof Uint8Array)) throw malformed('chunk data is not binary');
      return { kind: 'chunk', id: id(a), data: b };
    case 5:
      return { kind: 'end', id: id(a), error: error(b) };
    case 6:
      if (!Number.isSafeInteger(b) || (b as number) <= 0) throw malformed('credit is not a positive integer');
      return { kind: 'credit', id: id(a), bytes: b as number };
    default:
      throw malformed(`unknown envelope tag ${String(tag)}`);
  }
}

function id(value: unknown): number {
  if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_ID)
    return value as number;
  throw malformed('id is not a u32');
}

function method(value: unknown): string {
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_METHOD_LENGTH) return value;
  throw malformed(`method is not a string of 1-${MAX_METHOD_LENGTH} characters`);
}

function error(value: unknown): string | null {
  if (value === null || typeof value === 'string') return value;
  throw malformed('error is neither a string nor nil');
}

function malformed(problem: string): RpcProtocolError {
  return new RpcProtocolError('malformed', problem);
}
