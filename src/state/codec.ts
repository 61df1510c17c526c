import { decode, ExtensionCodec, encode } from '@msgpack/msgpack';

// The binary encoding of commands and snapshots. KV Flags are Go uint64s: values past 2^53 travel as bigint
// through a msgpack extension, so ordinary numbers (timestamps, indexes) keep decoding as numbers.

const BIGINT_EXT = 0;
const codec = new ExtensionCodec();
codec.register({
  type: BIGINT_EXT,
  encode: (value: unknown) => (typeof value === 'bigint' ? new TextEncoder().encode(value.toString()) : null),
  decode: (data: Uint8Array) => BigInt(new TextDecoder().decode(data)),
});

export function encodeValue(value: unknown): Uint8Array {
  return encode(value, { extensionCodec: codec, ignoreUndefined: true });
}

export function decodeValue(bytes: Uint8Array): unknown {
  return decode(bytes, { extensionCodec: codec });
}
