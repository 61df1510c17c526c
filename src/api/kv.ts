// Consul's KV endpoints as its Go client uses them (for `consul kv`, locks and semaphores): 404 on a read means
// "no such key", PUT and DELETE answer true/false, values travel base64 in JSON, flags are full uint64s.
import path from 'node:path';
import { z } from 'zod';
import { type ApiClient, pathEscape, type Query } from './client.ts';

const kvPairSchema = z.object({
  Key: z.string(),
  CreateIndex: z.number(),
  ModifyIndex: z.number(),
  LockIndex: z.number(),
  Flags: z.union([z.number(), z.bigint()]).transform(BigInt),
  Value: z
    .string()
    .nullish()
    .transform((value) => Buffer.from(value ?? '', 'base64')),
  Session: z.string().optional(),
});

export type KvPair = z.output<typeof kvPairSchema>;

const pairsSchema = z.array(kvPairSchema);
const keysSchema = z.array(z.string());
const okSchema = z.boolean();

/** A blocking read: wait for an index past `index` (up to `wait`), or ask the leader to confirm (`consistent`). */
export interface ReadOptions {
  index?: bigint;
  wait?: string;
  consistent?: boolean;
  signal?: AbortSignal;
}

export interface PutOptions {
  flags?: bigint;
  /** Check-and-set against this ModifyIndex (0 = only if absent). */
  cas?: bigint;
  acquire?: string;
  release?: string;
}

export class Kv {
  constructor(private readonly api: ApiClient) {}

  /** The pair at `key`, or undefined when there is none. */
  async get(key: string): Promise<KvPair | undefined> {
    const pairs = await this.api.getOptional(keyPath(key), pairsSchema);
    return pairs?.[0];
  }

  /** The pair at `key` (undefined when there is none) with the answer's index. */
  async read(key: string, options: ReadOptions = {}): Promise<{ pair: KvPair | undefined; index: bigint }> {
    const { value, index } = await this.api.read(keyPath(key), blockingQuery(options), options.signal);
    return { pair: value === undefined ? undefined : pairsSchema.parse(value)[0], index };
  }

  /** Every pair under `prefix` with the answer's index. */
  async readPrefix(prefix: string, options: ReadOptions = {}): Promise<{ pairs: KvPair[]; index: bigint }> {
    const query = { ...blockingQuery(options), recurse: true };
    const { value, index } = await this.api.read(keyPath(prefix), query, options.signal);
    return { pairs: value === undefined ? [] : pairsSchema.parse(value), index };
  }

  /** Every pair whose key starts with `prefix`. */
  async list(prefix: string): Promise<KvPair[]> {
    return (await this.api.getOptional(keyPath(prefix), pairsSchema, { recurse: true })) ?? [];
  }

  /** Keys under `prefix`, folded at the first `separator` after it (none when empty). */
  async keys(prefix: string, separator: string): Promise<string[]> {
    return (await this.api.getOptional(keyPath(prefix), keysSchema, { keys: true, separator })) ?? [];
  }

  /** Writes `value`; false when a -cas, -acquire or -release condition did not hold. */
  async put(key: string, value: Uint8Array, options: PutOptions = {}): Promise<boolean> {
    if (key.startsWith('/')) throw new Error(`Invalid key. Key must not begin with a '/': ${key}`);
    const { flags, cas, acquire, release } = options;
    return this.api.put(keyPath(key), okSchema, {
      body: value,
      query: { flags: flags ? flags : undefined, cas, acquire, release },
    });
  }

  /** Deletes `key` (or, with `recurse`, every key under it); false when a -cas condition did not hold. */
  async delete(key: string, options: { recurse?: boolean; cas?: bigint } = {}): Promise<boolean> {
    return this.api.delete(keyPath(key), okSchema, { recurse: options.recurse, cas: options.cas });
  }
}

/** Keys never start with `/`; Consul's commands drop a leading one for the user. */
export function trimLeadingSlash(key: string): string {
  return key.startsWith('/') ? key.slice(1) : key;
}

/** Go's path.Join: non-empty parts joined with `/` and cleaned, '' when all are empty. */
export function joinKey(...parts: string[]): string {
  const nonEmpty = parts.filter((part) => part !== '');
  if (nonEmpty.length === 0) return '';
  const joined = path.posix.normalize(nonEmpty.join('/'));
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

function blockingQuery({ index, wait, consistent }: ReadOptions): Query {
  return { index: index || undefined, wait, consistent };
}

function keyPath(key: string): string {
  return `/v1/kv/${pathEscape(key)}`;
}
