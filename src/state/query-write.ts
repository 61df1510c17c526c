import type { PreparedQueryInput } from './commands.ts';
import { StateError } from './errors.ts';
import { bumpTable, lower, type WriteTx } from './schema.ts';

// Prepared queries as Consul's state store keeps them: unique names that never alias another query's name
// or ID, a session that must exist (and whose invalidation deletes the query), one empty-name template.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function setQuery(tx: WriteTx, query: PreparedQueryInput): string {
  const { db } = tx;
  const existing = db.preparedQueries.get(query.ID);
  if (query.Name) {
    const [other] = db.preparedQueries.group('name', lower(query.Name));
    if (other && other.ID !== query.ID) {
      throw new StateError(`name '${query.Name}' aliases an existing query name`);
    }
    if (UUID.test(query.Name) && db.preparedQueries.get(query.Name.toLowerCase())) {
      throw new StateError(`name '${query.Name}' aliases an existing query ID`);
    }
  } else if (query.Template.Type) {
    const emptyTemplate = [...db.preparedQueries.values()].find(
      (q) => q.Name === '' && q.Template.Type && q.ID !== query.ID,
    );
    if (emptyTemplate)
      throw new StateError('a query template with an empty name has already been registered');
  }
  if (query.Session && !db.sessions.get(query.Session)) {
    throw new StateError(`invalid session ${JSON.stringify(query.Session)}`);
  }
  db.preparedQueries.put({
    ...query,
    CreateIndex: existing?.CreateIndex ?? tx.index,
    ModifyIndex: tx.index,
  });
  bumpTable(tx, 'prepared-queries');
  return query.ID;
}

export function deleteQuery(tx: WriteTx, id: string): void {
  if (!tx.db.preparedQueries.remove(id)) return;
  bumpTable(tx, 'prepared-queries');
}

/** An invalidated session takes its prepared queries with it. */
export function deleteSessionQueries(tx: WriteTx, sessionId: string): void {
  for (const query of [...tx.db.preparedQueries.group('session', sessionId)]) deleteQuery(tx, query.ID);
}
