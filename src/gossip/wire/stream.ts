import {
  type AckResp,
  type ErrResp,
  MessageType,
  type Ping,
  type PushNodeState,
  type PushPull,
  type PushPullHeader,
} from '../messages.ts';
import { compressPayload, decompressPayload } from './compress.ts';
import { decryptPayload, type EncryptionVersion, encryptedLength, encryptPayload } from './encryption.ts';
import { GossipCodecError } from './errors.ts';
import { decodeScanned, GoMsgpackWriter } from './go-msgpack.ts';
import type { Keyring } from './keyring.ts';
import { MAX_DEPTH, MAX_PUSH_NODES, MAX_PUSH_STATE_BYTES, MAX_STREAM_BYTES } from './limits.ts';
import {
  encodeMessage,
  readAckResp,
  readErrResp,
  readPing,
  readPushNodeState,
  readPushPullHeader,
  readUserMsgHeader,
  writePushNodeState,
  writePushPullHeader,
  writeUserMsgHeader,
} from './message-codec.ts';
import { MsgpackScanner } from './msgpack-scan.ts';

// TCP streams. memberlist opens a connection per exchange and sends one message each way:
//   push/pull   [6] {Nodes, UserStateLen, Join} then Nodes × pushNodeState then UserStateLen bytes
//   user        [8] {UserMsgLen} then UserMsgLen bytes (a reliable delegate message)
//   ping        [0] ping, answered by [2] ackResp (the TCP fallback of a failed UDP probe)
//   error       [13] {Error}, sent back when the other side's message could not be read
// None carries an overall length: msgpack values follow each other, so a reader must walk them to find
// the end. The whole message is then compressed when enabled (serf's default; always, not only when it
// shrinks), and encrypted when a keyring is configured, as `[10][u32 length][encrypted]` with those five
// header bytes as the additional data. There is no CRC and no compound on streams.

export type StreamMessage =
  | { type: 'pushPull'; body: PushPull }
  | { type: 'user'; body: Uint8Array }
  | { type: 'ping'; body: Ping }
  | { type: 'ackResp'; body: AckResp }
  | { type: 'err'; body: ErrResp };

export interface StreamEncodeOptions {
  /** Compress the message (memberlist's EnableCompression, on in serf). */
  compress?: boolean;
  /** Encrypt with the keyring's primary key. */
  keyring?: Keyring;
  encryptionVersion?: EncryptionVersion;
}

/** A stream message before compression and encryption. */
export function encodeStreamMessage(message: StreamMessage): Uint8Array {
  switch (message.type) {
    case 'pushPull': {
      const { join, nodes, userState } = message.body;
      const w = new GoMsgpackWriter();
      w.byte(MessageType.pushPull);
      writePushPullHeader(w, { Nodes: nodes.length, UserStateLen: userState.length, Join: join });
      for (const node of nodes) writePushNodeState(w, node);
      return w.append(userState).bytes();
    }
    case 'user': {
      const w = new GoMsgpackWriter();
      w.byte(MessageType.user);
      writeUserMsgHeader(w, message.body.length);
      return w.append(message.body).bytes();
    }
    case 'ping':
    case 'ackResp':
    case 'err':
      return encodeMessage(message);
  }
}

/** Applies a stream's compression and encryption to an encoded message. */
export function wrapStream(raw: Uint8Array, options: StreamEncodeOptions = {}): Uint8Array {
  let buf = options.compress ? compressPayload(raw) : raw;
  if (options.keyring) {
    const version = options.encryptionVersion ?? 1;
    const header = new Uint8Array(5);
    header[0] = MessageType.encrypt;
    new DataView(header.buffer).setUint32(1, encryptedLength(version, buf.length));
    const sealed = encryptPayload(version, options.keyring.primaryKey, buf, header);
    buf = new Uint8Array(5 + sealed.length);
    buf.set(header);
    buf.set(sealed, 5);
  }
  return buf;
}

/** Encodes a stream message, compressed and encrypted as the options say: the bytes to write. */
export function encodeStream(message: StreamMessage, options: StreamEncodeOptions = {}): Uint8Array {
  return wrapStream(encodeStreamMessage(message), options);
}

export interface StreamDecodeOptions {
  /** Streams must be encrypted with one of its keys. */
  keyring?: Keyring;
  /** memberlist's GossipVerifyIncoming (default true); false also accepts plain streams with a keyring. */
  verifyIncoming?: boolean;
  /** The most one message may occupy once decrypted and decompressed. */
  maxBytes?: number;
}

export interface DecodedStream {
  message: StreamMessage;
  /** Bytes of the stream the message took; anything after it belongs to no message. */
  consumed: number;
  envelope: { encrypted: boolean; compressed: boolean };
}

const STREAM_TYPES = new Set<number>([
  MessageType.pushPull,
  MessageType.user,
  MessageType.ping,
  MessageType.ackResp,
  MessageType.err,
]);

/** Walks one unwrapped message, resuming where it stopped as more bytes arrive. */
class PlainParser {
  #stage: 'head' | 'nodes' | 'tail' = 'head';
  #pos = 1;
  #scanner: MsgpackScanner;
  #header: PushPullHeader | undefined;
  readonly #nodes: PushNodeState[] = [];
  #tailBytes = 0;

  constructor(
    private readonly type: number,
    private readonly limit: number,
    private readonly pastLimit: 'limit' | 'truncated',
  ) {
    if (!STREAM_TYPES.has(type)) {
      throw new GossipCodecError('unsupported', `message type ${type} is not sent on streams`);
    }
    this.#scanner = this.#scan();
  }

  #scan(): MsgpackScanner {
    return new MsgpackScanner(this.#pos, this.limit, MAX_DEPTH, this.pastLimit);
  }

  /** The message and its end, or undefined until the bytes hold all of it. */
  advance(bytes: Uint8Array): { message: StreamMessage; end: number } | undefined {
    for (;;) {
      if (this.#stage === 'tail') {
        const end = this.#pos + this.#tailBytes;
        if (end > this.limit) {
          throw new GossipCodecError(this.pastLimit, 'stream message runs past its limit');
        }
        if (bytes.length < end) return undefined;
        const tail = new Uint8Array(bytes.subarray(this.#pos, end));
        if (this.type === MessageType.user) return { message: { type: 'user', body: tail }, end };
        const join = this.#header!.Join;
        return { message: { type: 'pushPull', body: { join, nodes: this.#nodes, userState: tail } }, end };
      }
      const end = this.#scanner.advance(bytes);
      if (end === undefined) return undefined;
      const value = decodeScanned(bytes, this.#pos, end);
      this.#pos = end;
      if (this.#stage === 'nodes') {
        this.#nodes.push(readPushNodeState(value));
        if (this.#nodes.length === this.#header!.Nodes) this.#stage = 'tail';
        else this.#scanner = this.#scan();
        continue;
      }
      switch (this.type) {
        case MessageType.ping:
          return { message: { type: 'ping', body: readPing(value) }, end };
        case MessageType.ackResp:
          return { message: { type: 'ackResp', body: readAckResp(value) }, end };
        case MessageType.err:
          return { message: { type: 'err', body: readErrResp(value) }, end };
        case MessageType.user:
          this.#tailBytes = checkTail(readUserMsgHeader(value), 'user message');
          this.#stage = 'tail';
          break;
        default: {
          const header = readPushPullHeader(value);
          if (header.Nodes > MAX_PUSH_NODES) {
            throw new GossipCodecError('limit', `push/pull of ${header.Nodes} nodes is over the limit`);
          }
          this.#header = header;
          this.#tailBytes = checkTail(header.UserStateLen, 'user state');
          this.#stage = header.Nodes > 0 ? 'nodes' : 'tail';
          this.#scanner = this.#scan();
        }
      }
    }
  }
}

function checkTail(length: number, what: string): number {
  if (length > MAX_PUSH_STATE_BYTES) {
    throw new GossipCodecError(
      'limit',
      `${what} of ${length} bytes is over the ${MAX_PUSH_STATE_BYTES}-byte limit`,
    );
  }
  return length;
}

/** Decodes a complete inner message (decrypted or decompressed); bytes after it are ignored, as in Go. */
function decodeInner(
  bytes: Uint8Array,
  maxBytes: number,
  allowCompressed: boolean,
): { message: StreamMessage; compressed: boolean } {
  if (bytes.length === 0) throw new GossipCodecError('truncated', 'stream message is empty');
  if (bytes[0] === MessageType.compress && allowCompressed) {
    const inner = decompressPayload(bytes.subarray(1), maxBytes);
    return { message: decodeInner(inner, maxBytes, false).message, compressed: true };
  }
  if (bytes[0] === MessageType.compress || bytes[0] === MessageType.encrypt) {
    throw new GossipCodecError('unsupported', `stream message wrapped twice (type ${bytes[0]} inside)`);
  }
  const parsed = new PlainParser(bytes[0]!, bytes.length, 'truncated').advance(bytes);
  if (parsed === undefined) throw new GossipCodecError('truncated', 'stream message is cut short');
  return { message: parsed.message, compressed: false };
}

/**
 * Reads one stream message from bytes as they arrive: push each chunk, and the decoded message comes back
 * once complete. Throws GossipCodecError for anything memberlist would not send, or that is over the limits.
 */
export class StreamDecoder {
  #buf = new Uint8Array(4096);
  #len = 0;
  #plain: PlainParser | undefined;
  #scanner: MsgpackScanner | undefined;
  #result: DecodedStream | undefined;
  readonly #maxBytes: number;

  constructor(private readonly options: StreamDecodeOptions = {}) {
    this.#maxBytes = options.maxBytes ?? MAX_STREAM_BYTES;
  }

  /** Bytes received so far. */
  get buffered(): number {
    return this.#len;
  }

  push(chunk: Uint8Array): DecodedStream | undefined {
    if (this.#result) return this.#result;
    if (this.#len + chunk.length > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < this.#len + chunk.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
    this.#result = this.#step(this.#buf.subarray(0, this.#len));
    if (!this.#result && this.#len > this.#maxBytes + 5) {
      throw new GossipCodecError('limit', `no complete stream message within ${this.#maxBytes} bytes`);
    }
    return this.#result;
  }

  #step(bytes: Uint8Array): DecodedStream | undefined {
    if (bytes.length === 0) return undefined;
    const type = bytes[0]!;
    const { keyring, verifyIncoming } = this.options;
    if (type === MessageType.encrypt) {
      if (!keyring) throw new GossipCodecError('decrypt', 'stream is encrypted and no keyring is configured');
      if (bytes.length < 5) return undefined;
      const length = new DataView(bytes.buffer, bytes.byteOffset, 5).getUint32(1);
      if (length > MAX_PUSH_STATE_BYTES) {
        throw new GossipCodecError('limit', `encrypted stream message of ${length} bytes is over the limit`);
      }
      if (bytes.length < 5 + length) return undefined;
      const plain = decryptPayload(keyring.keys, bytes.subarray(5, 5 + length), bytes.subarray(0, 5));
      const inner = decodeInner(plain, this.#maxBytes, true);
      return {
        message: inner.message,
        consumed: 5 + length,
        envelope: { encrypted: true, compressed: inner.compressed },
      };
    }
    if (keyring && verifyIncoming !== false) {
      throw new GossipCodecError('decrypt', 'encryption is configured but the stream is not encrypted');
    }
    if (type === MessageType.compress) {
      this.#scanner ??= new MsgpackScanner(1, this.#maxBytes);
      const end = this.#scanner.advance(bytes);
      if (end === undefined) return undefined;
      const inner = decompressPayload(bytes.subarray(1, end), this.#maxBytes);
      const { message } = decodeInner(inner, this.#maxBytes, false);
      return { message, consumed: end, envelope: { encrypted: false, compressed: true } };
    }
    this.#plain ??= new PlainParser(type, this.#maxBytes, 'limit');
    const parsed = this.#plain.advance(bytes);
    if (parsed === undefined) return undefined;
    return {
      message: parsed.message,
      consumed: parsed.end,
      envelope: { encrypted: false, compressed: false },
    };
  }
}

/** Decodes a stream message from bytes that hold all of it. */
export function decodeStream(bytes: Uint8Array, options: StreamDecodeOptions = {}): DecodedStream {
  const decoded = new StreamDecoder(options).push(bytes);
  if (decoded === undefined) throw new GossipCodecError('truncated', 'stream ended before its message did');
  return decoded;
}
