import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Keyring } from '../wire/keyring.ts';
import { decodeStdBase64 } from './key-manager.ts';

// The keyring on disk, as Consul keeps it under its data directory: a JSON array of base64 keys, the primary
// first, in <data-dir>/serf/local.keyring (LAN) and remote.keyring (WAN). serf rewrites the file after every
// key query that changed the keyring, so a restarted agent comes back with the keys the cluster moved to.

export const SERF_LAN_KEYRING = 'serf/local.keyring';
export const SERF_WAN_KEYRING = 'serf/remote.keyring';

const b64 = (key: Uint8Array) => Buffer.from(key).toString('base64');

/** serf's writeKeyringFile: indented JSON, readable by its owner only. */
export function writeKeyringFile(path: string, keys: readonly Uint8Array[]): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify(keys.map(b64), null, 2), { mode: 0o600 });
  } catch (err) {
    throw new Error(`Failed to write keyring file: ${(err as Error).message}`);
  }
}

/** Consul's loadKeyringFile: every key installed, the first one primary. */
export function readKeyringFile(path: string): Keyring {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(parsed) || parsed.some((key) => typeof key !== 'string')) {
    throw new Error(`keyring file ${path} is not a JSON array of strings`);
  }
  const keys = (parsed as string[]).map((key) => decodeStdBase64(key));
  if (keys.length === 0) throw new Error(`no keys present in keyring: ${path}`);
  try {
    return new Keyring(keys[0]!, keys.slice(1));
  } catch (err) {
    throw new Error(
      (err as Error).message.replace(/^a gossip key must be .*/, 'key size must be 16, 24 or 32 bytes'),
    );
  }
}

export interface PoolKeyring {
  /** Absent when gossip is not encrypted. */
  keyring?: Keyring;
  /** The file to rewrite after each change, when the keyring is kept on disk. */
  keyringFile?: string;
  /** Consul's warning when the keyring on disk does not hold the -encrypt key (the file wins). */
  warning?: string;
}

/**
 * Consul's setupKeyrings for one pool. Without a data directory the keyring is -encrypt's key alone. With one,
 * -encrypt's key starts the file when there is none; an existing file is loaded as it is (even without
 * -encrypt), and -encrypt is then ignored, with a warning when the file does not hold its key.
 */
export function setupPoolKeyring(
  dataDir: string | undefined,
  file: typeof SERF_LAN_KEYRING | typeof SERF_WAN_KEYRING,
  encrypt: string | undefined,
): PoolKeyring {
  if (dataDir === undefined || dataDir === '') {
    return encrypt === undefined ? {} : { keyring: Keyring.fromBase64(encrypt) };
  }
  const path = join(dataDir, file);
  const existed = existsSync(path);
  if (!existed) {
    if (encrypt === undefined) return {};
    const key = Keyring.fromBase64(encrypt).primaryKey;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify([b64(key)]), { mode: 0o600 });
  }
  const keyring = readKeyringFile(path);
  const out: PoolKeyring = { keyring, keyringFile: path };
  if (existed && encrypt !== undefined) {
    const wanted = Keyring.fromBase64(encrypt).primaryKey;
    if (!keyring.keys.some((key) => b64(key) === b64(wanted))) {
      out.warning = "keyring doesn't include key provided with -encrypt, using keyring";
    }
  }
  return out;
}
