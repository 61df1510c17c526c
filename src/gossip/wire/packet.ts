import { type GossipMessage, MessageType } from '../messages.ts';
import { makeCompound, splitCompound } from './compound.ts';
import { compressPayload, decompressPayload } from './compress.ts';
import { addCrc, checkCrc } from './crc.ts';
import { decryptPayload, type EncryptionVersion, encryptPayload } from './encryption.ts';
import { GossipCodecError, messageOf } from './errors.ts';
import type { Keyring } from './keyring.ts';
import { MAX_PACKET_PLAIN_BYTES } from './limits.ts';
import { decodeMessage } from './message-codec.ts';

// UDP packets. memberlist sends: payload → compound (when piggybacking more than one message) → compress
// (when enabled and it shrinks the packet) → CRC (to peers with protocol max ≥ 5) → encrypt (when a keyring
// is configured). It receives in reverse: decrypt → check the CRC → then the message type decides, so
// compress and compound can wrap each other. Honest senders wrap at most once each; a packet that nests a
// compound in a compound, or compresses twice, is refused here, which bounds the work one datagram can cause.

export interface PacketEncodeOptions {
  /** Compress when that makes the packet smaller (memberlist's EnableCompression, on in serf). */
  compress?: boolean;
  /** Prefix a CRC; memberlist does so when the recipient's protocol max is 5 or more. */
  crc?: boolean;
  /** Encrypt with the keyring's primary key. */
  keyring?: Keyring;
  /** 1 unless speaking protocol version 1 to an old peer. */
  encryptionVersion?: EncryptionVersion;
}

/**
 * Builds one packet from encoded messages (see encodeMessage); several go into a compound message. Fitting
 * the packet within the UDP budget is the caller's job. A lone message with no wrapping is returned as is.
 */
export function encodePacket(messages: readonly Uint8Array[], options: PacketEncodeOptions = {}): Uint8Array {
  if (messages.length === 0) throw new GossipCodecError('encode', 'a packet needs at least one message');
  let packet = messages.length === 1 ? messages[0]! : makeCompound(messages);
  if (options.compress) {
    const compressed = compressPayload(packet);
    if (compressed.length < packet.length) packet = compressed;
  }
  if (options.crc) packet = addCrc(packet);
  if (options.keyring) {
    packet = encryptPayload(options.encryptionVersion ?? 1, options.keyring.primaryKey, packet);
  }
  return packet;
}

export interface PacketDecodeOptions {
  /** Packets must decrypt with one of its keys. */
  keyring?: Keyring;
  /**
   * memberlist's GossipVerifyIncoming (default true). False accepts a packet that does not decrypt as
   * plaintext: the state a cluster is in while encryption is being turned on.
   */
  verifyIncoming?: boolean;
  /** The most a compressed packet may open into. */
  maxPlainBytes?: number;
}

export interface DecodedPacket {
  /** Every message that decoded, in packet order. */
  messages: GossipMessage[];
  /**
   * Parts of a compound message that failed to decode; the other parts are still in `messages`, as
   * memberlist handles each part on its own.
   */
  problems: GossipCodecError[];
  /** Compound parts cut off by the end of the packet (memberlist logs these and keeps the rest). */
  truncatedParts: number;
  /** Which wrappings the packet had. */
  envelope: { encrypted: boolean; crc: boolean; compressed: boolean; compound: boolean };
}

/**
 * Decodes a packet. Throws GossipCodecError when nothing in it is usable (it does not decrypt, its CRC is
 * wrong, its only message is malformed...); a bad part of a compound is reported in `problems` instead.
 */
export function decodePacket(packet: Uint8Array, options: PacketDecodeOptions = {}): DecodedPacket {
  const result: DecodedPacket = {
    messages: [],
    problems: [],
    truncatedParts: 0,
    envelope: { encrypted: false, crc: false, compressed: false, compound: false },
  };
  if (packet.length === 0) throw new GossipCodecError('truncated', 'empty packet');
  let buf = packet;
  if (options.keyring) {
    try {
      buf = decryptPayload(options.keyring.keys, packet);
      result.envelope.encrypted = true;
    } catch (error) {
      if (options.verifyIncoming !== false) throw error;
    }
  }
  // As memberlist: a packet of at least 5 bytes starting with 12 carries a CRC.
  if (buf.length >= 5 && buf[0] === MessageType.hasCrc) {
    buf = checkCrc(buf);
    result.envelope.crc = true;
  }
  handle(buf, result, options.maxPlainBytes ?? MAX_PACKET_PLAIN_BYTES, false, false);
  return result;
}

function handle(
  buf: Uint8Array,
  result: DecodedPacket,
  maxPlainBytes: number,
  inCompound: boolean,
  inCompress: boolean,
): void {
  if (buf.length === 0) throw new GossipCodecError('truncated', 'message has no type byte');
  const type = buf[0]!;
  if (type === MessageType.compound) {
    if (inCompound) throw new GossipCodecError('unsupported', 'compound message inside a compound message');
    result.envelope.compound = true;
    const { parts, truncated } = splitCompound(buf.subarray(1));
    result.truncatedParts += truncated;
    for (const part of parts) {
      try {
        handle(part, result, maxPlainBytes, true, inCompress);
      } catch (error) {
        result.problems.push(
          error instanceof GossipCodecError ? error : new GossipCodecError('malformed', messageOf(error)),
        );
      }
    }
  } else if (type === MessageType.compress) {
    if (inCompress)
      throw new GossipCodecError('unsupported', 'compressed message inside a compressed message');
    result.envelope.compressed = true;
    handle(decompressPayload(buf.subarray(1), maxPlainBytes), result, maxPlainBytes, inCompound, true);
  } else if (type === MessageType.err || !PACKET_TYPES.has(type)) {
    // errResp only travels on streams; pushPull, encrypt and a nested hasCrc never appear here.
    throw new GossipCodecError('unsupported', `message type ${type} is not sent in packets`);
  } else {
    result.messages.push(decodeMessage(buf));
  }
}

const PACKET_TYPES = new Set<number>([
  MessageType.ping,
  MessageType.indirectPing,
  MessageType.ackResp,
  MessageType.suspect,
  MessageType.alive,
  MessageType.dead,
  MessageType.user,
  MessageType.nackResp,
]);
