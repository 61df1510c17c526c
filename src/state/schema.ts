import { Journal, JournaledMap, OrderedTable, Table } from './db.ts';
import type {
  CheckRow,
  KVRow,
  NodeRow,
  PreparedQueryRow,
  ServiceRow,
  SessionRow,
  TableName,
} from './types.ts';

// The tables of the state store and their groupings. Node and service names are matched case-insensitively,
// as Consul's memdb indexes do.

export interface TombstoneRow {
  Key: string;
  Index: number;
}

export const lower = (name: string): string => name.toLowerCase();
export const serviceKey = (node: string, serviceId: string): string => `${lower(node)}\u0000${serviceId}`;
export const checkKey = (node: string, checkId: string): string => `${lower(node)}\u0000${checkId}`;

/** The service a Connect-capable instance serves: a proxy's destination, or a native service's own name. */
export function connectTarget(row: ServiceRow): string | undefined {
  if (row.Kind === 'connect-proxy') {
    const destination = row.Proxy?.DestinationServiceName;
    return typeof destination === 'string' ? lower(destination) : undefined;
  }
  return row.Connect?.Native ? lower(row.Service) : undefined;
}

export class StateDB {
  readonly journal = new Journal();
  readonly nodes = new Table<NodeRow>(
    new Map(),
    (r) => lower(r.Node),
    { id: (r) => (r.ID ? lower(r.ID) : undefined) },
    this.journal,
  );
  readonly services = new Table<ServiceRow>(
    new Map(),
    (r) => serviceKey(r.Node, r.ID),
    { node: (r) => lower(r.Node), name: (r) => lower(r.Service), connect: connectTarget },
    this.journal,
  );
  readonly checks = new Table<CheckRow>(
    new Map(),
    (r) => checkKey(r.Node, r.CheckID),
    {
      node: (r) => lower(r.Node),
      service: (r) => (r.ServiceID ? serviceKey(r.Node, r.ServiceID) : undefined),
      status: (r) => r.Status,
    },
    this.journal,
  );
  readonly kvs = new OrderedTable<KVRow>(
    (r) => r.Key,
    { session: (r) => r.Session || undefined },
    this.journal,
  );
  readonly tombstones = new OrderedTable<TombstoneRow>((r) => r.Key, {}, this.journal);
  readonly sessions = new Table<SessionRow>(
    new Map(),
    (r) => r.ID,
    { node: (r) => lower(r.Node) },
    this.journal,
  );
  readonly preparedQueries = new Table<PreparedQueryRow>(
    new Map(),
    (r) => r.ID,
    { name: (r) => (r.Name ? lower(r.Name) : undefined), session: (r) => r.Session || undefined },
    this.journal,
  );
  /** Max index per table, and per service name under `service.<name>` (as Consul's index table). */
  readonly indexes = new JournaledMap<number>(this.journal);
  /** KV keys that may not be acquired until the given time (ms), after their lock holder was invalidated. */
  readonly lockDelays = new JournaledMap<number>(this.journal);

  tableIndex(table: TableName): number {
    return this.indexes.get(table) ?? 0;
  }

  /** Highest index among `tables`. */
  maxIndex(...tables: TableName[]): number {
    return Math.max(0, ...tables.map((t) => this.tableIndex(t)));
  }

  serviceIndex(name: string): number {
    return this.indexes.get(`service.${lower(name)}`) ?? 0;
  }
}

/** The context of one command being applied: the database, the Raft index and the leader-stamped time. */
export interface WriteTx {
  db: StateDB;
  index: number;
  /** Milliseconds since the epoch, stamped by the leader so that apply stays deterministic. */
  now: number;
}

export function bumpTable(tx: WriteTx, table: TableName): void {
  tx.db.indexes.set(table, tx.index);
  tx.db.journal.touch(`table:${table}`);
}

/** Marks a service name changed: its index moves and its health/catalog watchers wake. */
export function bumpService(tx: WriteTx, name: string): void {
  tx.db.indexes.set(`service.${lower(name)}`, tx.index);
  tx.db.journal.touch(serviceWatchKey(name));
}

export const serviceWatchKey = (name: string): string => `service:${lower(name)}`;
export const nodeWatchKey = (node: string): string => `node:${lower(node)}`;
export const connectWatchKey = (name: string): string => `connect:${lower(name)}`;
export const sessionWatchKey = (id: string): string => `session:${id}`;
export const tableWatchKey = (table: TableName): string => `table:${table}`;
