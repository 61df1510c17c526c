import { type CipherGCMTypes, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GossipCodecError } from './errors.ts';
import { validateKey } from './keyring.ts';

// memberlist's encryption: AES-GCM (key size picks AES-128/192/256), `[version][12-byte nonce][ciphertext +
// 16-byte tag]`. Version 0 (protocol 1 only) pads the plaintext PKCS#7-style to a 16-byte multiple: 1 to 16
// bytes, each holding the pad length, always at least one. Version 1 (protocol ≥ 2, what serf speaks) does
// not pad. Additional data: none for packets; on streams, the 5-byte `[10][u32 length]` header.

export type EncryptionVersion = 0 | 1;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const BLOCK_BYTES = 16;
const EMPTY = new Uint8Array(0);

/** The size of `plaintextBytes` once encrypted with `version`. */
export function encryptedLength(version: EncryptionVersion, plaintextBytes: number): number {
  const padding = version === 0 ? BLOCK_BYTES - (plaintextBytes % BLOCK_BYTES) : 0;
  return 1 + NONCE_BYTES + plaintextBytes + padding + TAG_BYTES;
}

/** The most encryption adds to a message (memberlist reserves this much room in a packet). */
export function encryptionOverhead(version: EncryptionVersion): number {
  return version === 0 ? 45 : 29;
}

const algorithm = (key: Uint8Array): CipherGCMTypes =>
  key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';

export function encryptPayload(
  version: EncryptionVersion,
  key: Uint8Array,
  plaintext: Uint8Array,
  additionalData: Uint8Array = EMPTY,
): Uint8Array {
  validateKey(key);
  let input = plaintext;
  if (version === 0) {
    const pad = BLOCK_BYTES - (plaintext.length % BLOCK_BYTES);
    input = new Uint8Array(plaintext.length + pad);
    input.set(plaintext);
    input.fill(pad, plaintext.length);
  }
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(algorithm(key), key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData);
  const body = cipher.update(input);
  cipher.final();
  const out = new Uint8Array(1 + NONCE_BYTES + body.length + TAG_BYTES);
  out[0] = version;
  out.set(nonce, 1);
  out.set(body, 1 + NONCE_BYTES);
  out.set(cipher.getAuthTag(), 1 + NONCE_BYTES + body.length);
  return out;
}

/** Opens a message with the first key that authenticates it, as memberlist tries every installed key. */
export function decryptPayload(
  keys: readonly Uint8Array[],
  message: Uint8Array,
  additionalData: Uint8Array = EMPTY,
): Uint8Array {
  if (message.length === 0) throw new GossipCodecError('truncated', 'encrypted message is empty');
  const version = message[0]!;
  if (version !== 0 && version !== 1) {
    throw new GossipCodecError('decrypt', `unsupported encryption version ${version}`);
  }
  if (message.length < encryptedLength(version, 0)) {
    throw new GossipCodecError('truncated', `encrypted message of ${message.length} bytes is too short`);
  }
  const nonce = message.subarray(1, 1 + NONCE_BYTES);
  const body = message.subarray(1 + NONCE_BYTES, message.length - TAG_BYTES);
  const tag = message.subarray(message.length - TAG_BYTES);
  for (const key of keys) {
    let plain: Buffer;
    try {
      const decipher = createDecipheriv(algorithm(key), key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData);
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      continue; // not this key
    }
    if (version === 1) return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
    const pad = plain.length > 0 ? plain[plain.length - 1]! : 0;
    if (pad < 1 || pad > BLOCK_BYTES || pad > plain.length) {
      throw new GossipCodecError('malformed', 'encrypted message has bad padding');
    }
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.length - pad);
  }
  throw new GossipCodecError('decrypt', 'no installed key can decrypt the message');
}
