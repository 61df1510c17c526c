// Every failure of the gossip wire codec is a GossipCodecError with a reason, so callers (the SWIM core, the
// transport, metrics) can count and log bad packets by kind without parsing messages. Gossip input comes
// from the network: decoders throw nothing else, whatever the bytes.

export type GossipCodecReason =
  /** The input ended before the message did. */
  | 'truncated'
  /** The bytes are not what memberlist or serf would send. */
  | 'malformed'
  /** A size, count or length is over the codec's limits. */
  | 'limit'
  /** The CRC of a hasCrc packet does not match its contents. */
  | 'crc'
  /** No key of the keyring opens the message, or encryption is required and the message is plain. */
  | 'decrypt'
  /** The LZW stream of a compress message is broken or names an unknown algorithm. */
  | 'decompress'
  /** A message type this side does not accept where it arrived. */
  | 'unsupported'
  /** Our own message cannot be encoded (a value out of range, too many parts, a bad key). */
  | 'encode';

export class GossipCodecError extends Error {
  override name = 'GossipCodecError';
  constructor(
    readonly reason: GossipCodecReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`gossip ${reason}: ${message}`, options);
  }
}

/** The message of an unknown thrown value, for wrapping library errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
