// The gossip keyring, as memberlist keeps it: one primary key that encrypts everything sent, and any number
// of others that are still accepted, so a cluster can rotate keys (install everywhere, switch the primary,
// remove the old one) without a moment where two members cannot read each other.

/** AES-128, -192 or -256: memberlist accepts exactly these key sizes. */
export function validateKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`a gossip key must be 16, 24 or 32 bytes, not ${key.length}`);
  }
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);

export class Keyring {
  /** Primary first: decryption tries the keys in this order. */
  #keys: Uint8Array[] = [];

  constructor(primary: Uint8Array, others: readonly Uint8Array[] = []) {
    for (const key of [primary, ...others]) this.addKey(key);
    this.useKey(primary);
  }

  /** A keyring from base64 keys, the form `serf agent -encrypt` and Consul's `encrypt` take. */
  static fromBase64(primary: string, others: readonly string[] = []): Keyring {
    const decode = (text: string) => {
      const key = Buffer.from(text, 'base64');
      if (key.toString('base64') !== text.replace(/\s+/g, ''))
        throw new RangeError('a gossip key is not valid base64');
      return new Uint8Array(key);
    };
    return new Keyring(decode(primary), others.map(decode));
  }

  get primaryKey(): Uint8Array {
    return this.#keys[0]!;
  }

  /** Every installed key, the primary first. */
  get keys(): readonly Uint8Array[] {
    return this.#keys;
  }

  /** Installs a key for decryption; installing one already present changes nothing. */
  addKey(key: Uint8Array): void {
    validateKey(key);
    if (!this.#keys.some((k) => same(k, key))) this.#keys.push(Uint8Array.from(key));
  }

  /** Makes an installed key the primary. */
  useKey(key: Uint8Array): void {
    const index = this.#keys.findIndex((k) => same(k, key));
    if (index < 0) throw new RangeError('the requested primary key is not installed');
    const [chosen] = this.#keys.splice(index, 1);
    this.#keys.unshift(chosen!);
  }

  /** Removes a key; the primary cannot be removed (switch the primary first). */
  removeKey(key: Uint8Array): void {
    if (same(this.primaryKey, key)) throw new RangeError('the primary key cannot be removed');
    this.#keys = this.#keys.filter((k) => !same(k, key));
  }
}
