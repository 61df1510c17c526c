import { MessageType } from '../messages.ts';
import { GossipCodecError } from './errors.ts';
import { decodeValue, GoMsgpackWriter } from './go-msgpack.ts';
import { lzwCompress, lzwDecompress } from './lzw.ts';
import { readCompress, writeCompress } from './message-codec.ts';

// A compress message wraps any other: `[9] msgpack{Algo: 0, Buf: LZW(inner)}`. serf enables compression by
// default, so everything it sends over a stream, and any packet that shrinks, arrives this way.

const LZW_ALGO = 0;

/** Wraps `inner` (a whole message, type byte included) in a compress message. */
export function compressPayload(inner: Uint8Array): Uint8Array {
  const w = new GoMsgpackWriter();
  w.byte(MessageType.compress);
  writeCompress(w, LZW_ALGO, lzwCompress(inner));
  return w.bytes();
}

/** Opens the body of a compress message (the bytes after its type byte) into the message it wraps. */
export function decompressPayload(body: Uint8Array, maxBytes: number): Uint8Array {
  const { Algo, Buf } = readCompress(decodeValue(body));
  if (Algo !== LZW_ALGO) throw new GossipCodecError('decompress', `unknown compression algorithm ${Algo}`);
  const inner = lzwDecompress(Buf, maxBytes);
  if (inner.length === 0) throw new GossipCodecError('malformed', 'compressed message is empty');
  return inner;
}
