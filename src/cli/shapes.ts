// Consul shapes shared by several commands: pieces of responses (older servers send null for empty maps and
// lists, so both default to empty), and how metadata is printed and queried.
import { z } from 'zod';

export const stringMap = z
  .record(z.string(), z.string())
  .nullish()
  .transform((map) => map ?? {});

export const stringList = z
  .array(z.string())
  .nullish()
  .transform((list) => list ?? []);

/** `k1=v1<joiner>k2=v2`, sorted by key, as Consul prints tagged addresses and metadata. */
export function formatPairs(map: Record<string, string>, joiner: string): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${map[key]}`)
    .join(joiner);
}

/** The API takes node metadata filters as repeated `node-meta=key:value`. */
export function metaQuery(meta: Record<string, string>): string[] {
  return Object.entries(meta).map(([key, value]) => `${key}:${value}`);
}
