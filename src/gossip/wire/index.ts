// The memberlist/serf wire codec: everything Tribune needs to speak gossip with serf 0.9.x and Consul
// agents (memberlist protocol 2–5). Pure functions over bytes, except readStreamMessage, which reads a socket.

export { type CompoundParts, makeCompound, splitCompound } from './compound.ts';
export { compressPayload, decompressPayload } from './compress.ts';
export { addCrc, checkCrc, crc32 } from './crc.ts';
export {
  decryptPayload,
  type EncryptionVersion,
  encryptedLength,
  encryptionOverhead,
  encryptPayload,
} from './encryption.ts';
export { GossipCodecError, type GossipCodecReason } from './errors.ts';
export { decodeValue, GoMsgpackWriter } from './go-msgpack.ts';
export { Keyring, validateKey } from './keyring.ts';
export * from './limits.ts';
export { lzwCompress, lzwDecompress } from './lzw.ts';
export { decodeMessage, encodeMessage } from './message-codec.ts';
export {
  type DecodedPacket,
  decodePacket,
  encodePacket,
  type PacketDecodeOptions,
  type PacketEncodeOptions,
} from './packet.ts';
export {
  decodeSerfPingPayload,
  encodeSerfPingPayload,
  originCoordinate,
  SERF_COORDINATE_DIMENSIONS,
  SERF_PING_VERSION,
  type SerfCoordinate,
} from './serf-coordinate.ts';
export {
  decodeSerfFilter,
  decodeSerfMessage,
  encodeSerfFilter,
  encodeSerfMessage,
  type SerfEvent,
  type SerfFilter,
  type SerfJoin,
  type SerfLeave,
  type SerfMessage,
  SerfMessageType,
  type SerfPushPull,
  type SerfQuery,
  SerfQueryFlag,
  type SerfQueryResponse,
  type SerfRelay,
  type SerfUserEvent,
  type SerfUserEvents,
} from './serf-messages.ts';
export { decodeSerfTags, encodeSerfTags } from './serf-tags.ts';
export {
  type DecodedStream,
  decodeStream,
  encodeStream,
  encodeStreamMessage,
  type StreamDecodeOptions,
  StreamDecoder,
  type StreamEncodeOptions,
  type StreamMessage,
  wrapStream,
} from './stream.ts';
export { type ReadStreamOptions, readStreamMessage } from './stream-io.ts';
