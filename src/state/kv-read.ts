import type { StateDB } from './schema.ts';
import type { KVRow } from './types.ts';
import { kvWatchKey, type WatchSet } from './watch.ts';

// KV reads. Indexes follow Consul (checked against Consul 1.22's own agent): a key that exists answers with
// its ModifyIndex, so a client blocking on it waits until that key changes; a missing key answers with the
// KV table's index; a prefix answers with the highest index under the prefix,
// tombstones included, so deleting the newest key still moves it forward.

export interface Read<T> {
  index: number;
  value: T;
}

export function kvGet(db: StateDB, ws: WatchSet, key: string): Read<KVRow | undefined> {
  ws.add(kvWatchKey(key));
  const row = db.kvs.get(key);
  return { index: row?.ModifyIndex ?? db.maxIndex('kvs', 'tombstones'), value: row };
}

export function kvList(db: StateDB, ws: WatchSet, prefix: string): Read<KVRow[]> {
  ws.addKVPrefix(prefix);
  const rows = [...db.kvs.prefix(prefix)];
  return { index: prefixIndex(db, prefix, rows), value: rows };
}

/** Keys under `prefix`; with a separator, keys past the next separator fold into one "directory" entry. */
export function kvKeys(db: StateDB, ws: WatchSet, prefix: string, separator: string): Read<string[]> {
  ws.addKVPrefix(prefix);
  const rows = [...db.kvs.prefix(prefix)];
  const keys: string[] = [];
  for (const { Key } of rows) {
    const cut = separator ? Key.indexOf(separator, prefix.length) : -1;
    const key = cut >= 0 ? Key.slice(0, cut + separator.length) : Key;
    if (keys[keys.length - 1] !== key) keys.push(key);
  }
  return { index: prefixIndex(db, prefix, rows), value: keys };
}

function prefixIndex(db: StateDB, prefix: string, rows: KVRow[]): number {
  const tableIndex = db.maxIndex('kvs', 'tombstones');
  if (prefix === '') return tableIndex;
  let index = 0;
  for (const row of rows) index = Math.max(index, row.ModifyIndex);
  for (const tombstone of db.tombstones.prefix(prefix)) index = Math.max(index, tombstone.Index);
  return index || tableIndex;
}
