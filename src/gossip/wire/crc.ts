import { MessageType } from '../messages.ts';
import { GossipCodecError } from './errors.ts';

// `[12][crc32 IEEE of rest, u32 big-endian][rest]`. memberlist adds it for peers whose protocol max is ≥ 5
// and checks it on every packet that starts with type 12.

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 with the IEEE polynomial, as Go's crc32.ChecksumIEEE. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function addCrc(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = MessageType.hasCrc;
  new DataView(out.buffer).setUint32(1, crc32(payload));
  out.set(payload, 5);
  return out;
}

/** Checks a hasCrc packet and returns what it protects. */
export function checkCrc(packet: Uint8Array): Uint8Array {
  if (packet.length < 5) throw new GossipCodecError('truncated', 'hasCrc packet is shorter than its header');
  const expected = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(1);
  const payload = packet.subarray(5);
  const actual = crc32(payload);
  if (actual !== expected) {
    throw new GossipCodecError(
      'crc',
      `checksum ${actual.toString(16)} does not match ${expected.toString(16)}`,
    );
  }
  return payload;
}
