import type { Read } from './kv-read.ts';
import { lower, type StateDB, sessionWatchKey, tableWatchKey } from './schema.ts';
import type { SessionRow } from './types.ts';
import type { WatchSet } from './watch.ts';

export function getSession(db: StateDB, ws: WatchSet, id: string): Read<SessionRow | undefined> {
  ws.add(sessionWatchKey(id));
  return { index: db.tableIndex('sessions'), value: db.sessions.get(id) };
}

export function listSessions(db: StateDB, ws: WatchSet, nodeName?: string): Read<SessionRow[]> {
  ws.add(tableWatchKey('sessions'));
  const rows = nodeName === undefined ? db.sessions.values() : db.sessions.group('node', lower(nodeName));
  return { index: db.tableIndex('sessions'), value: [...rows].sort((a, b) => (a.ID < b.ID ? -1 : 1)) };
}
