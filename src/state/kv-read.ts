import type { StateDB } from './schema.ts';
import type { KVRow } from './types.ts';
import { kvWatchKey, type WatchSet } from './watch.ts';

// KV reads. Indexes follow Consul: a single key answers with the KV table's index (so a blocked read wakes
// only for its key but reports a fresh index); a prefix answers with the highest index under the prefix,
// tombstones included, so deleting the newest key still moves it forward.

export interface Read<T> {
  index: number;
  value: T;
}

export function kvGet(db: StateDB, ws: WatchSet, key: string): Read<KVRow | undefined> {
  ws.add(kvWatchKey(key));
  return { index: db.maxIndex('kvs', 'tombstones'), value: db.kvs.get(key) };
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
