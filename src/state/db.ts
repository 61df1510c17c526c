import sortedBTree from 'sorted-btree';
import type { Touched } from './watch.ts';

// sorted-btree is CommonJS with `exports.default`; under Node's ESM loader the class sits one level down.
const BTree = sortedBTree.default;
type BTree<K, V> = InstanceType<typeof sortedBTree.default<K, V>>;

// A small in-memory database in the spirit of go-memdb: tables with secondary groupings, and write
// transactions that either commit whole or roll back through an undo journal. Every command the FSM applies
// runs in one transaction, which is what makes `txn` (and any multi-row command) all-or-nothing.

type Undo = () => void;

/** The write transaction in progress: undo steps and the watch keys it touched. */
export class Journal {
  private undo: Undo[] | null = null;
  private touched: Touched | null = null;

  get active(): boolean {
    return this.undo !== null;
  }

  record(step: Undo): void {
    this.undo?.push(step);
  }

  touch(key: string): void {
    this.touched?.keys.add(key);
  }

  touchKV(key: string): void {
    this.touched?.kvKeys.add(key);
  }

  /** Runs `fn` as one transaction; returns its result and what it touched, or undoes everything and rethrows. */
  run<T>(fn: () => T): { result: T; touched: Touched } {
    if (this.undo) throw new Error('nested write transaction');
    const undo: Undo[] = [];
    const touched: Touched = { keys: new Set(), kvKeys: new Set() };
    this.undo = undo;
    this.touched = touched;
    try {
      return { result: fn(), touched };
    } catch (err) {
      this.undo = null;
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      throw err;
    } finally {
      this.undo = null;
      this.touched = null;
    }
  }
}

interface RowStore<R> {
  get(key: string): R | undefined;
  set(key: string, row: R): unknown;
  delete(key: string): boolean;
  values(): IterableIterator<R>;
  readonly size: number;
}

type Grouper<R> = (row: R) => string | undefined;

/** Rows by primary key, with named groupings (e.g. services by node, by name) kept in step on every write. */
export class Table<R> {
  private readonly groups = new Map<string, Map<string, Map<string, R>>>();

  constructor(
    protected readonly rows: RowStore<R>,
    private readonly primaryKey: (row: R) => string,
    private readonly groupers: Record<string, Grouper<R>>,
    private readonly journal: Journal,
  ) {
    for (const name of Object.keys(groupers)) this.groups.set(name, new Map());
  }

  get size(): number {
    return this.rows.size;
  }

  get(key: string): R | undefined {
    return this.rows.get(key);
  }

  values(): IterableIterator<R> {
    return this.rows.values();
  }

  /** The rows whose grouping `name` yields `value`. */
  group(name: string, value: string): Iterable<R> {
    return this.groupMap(name).get(value)?.values() ?? [];
  }

  groupSize(name: string, value: string): number {
    return this.groupMap(name).get(value)?.size ?? 0;
  }

  groupKeys(name: string): Iterable<string> {
    return this.groupMap(name).keys();
  }

  put(row: R): R | undefined {
    const key = this.primaryKey(row);
    const previous = this.rows.get(key);
    if (previous !== undefined) this.unindex(key, previous);
    this.rows.set(key, row);
    this.index(key, row);
    this.journal.record(() => {
      this.unindex(key, row);
      if (previous === undefined) {
        this.rows.delete(key);
      } else {
        this.rows.set(key, previous);
        this.index(key, previous);
      }
    });
    return previous;
  }

  remove(key: string): R | undefined {
    const previous = this.rows.get(key);
    if (previous === undefined) return undefined;
    this.unindex(key, previous);
    this.rows.delete(key);
    this.journal.record(() => {
      this.rows.set(key, previous);
      this.index(key, previous);
    });
    return previous;
  }

  /** Replaces every row without journaling (snapshot restore). */
  reset(rows: Iterable<R>): void {
    for (const row of [...this.rows.values()]) this.rows.delete(this.primaryKey(row));
    for (const map of this.groups.values()) map.clear();
    for (const row of rows) {
      const key = this.primaryKey(row);
      this.rows.set(key, row);
      this.index(key, row);
    }
  }

  private groupMap(name: string): Map<string, Map<string, R>> {
    const map = this.groups.get(name);
    if (!map) throw new Error(`no grouping ${name}`);
    return map;
  }

  private index(key: string, row: R): void {
    for (const [name, grouper] of Object.entries(this.groupers)) {
      const value = grouper(row);
      if (value === undefined) continue;
      const map = this.groupMap(name);
      let members = map.get(value);
      if (!members) {
        members = new Map();
        map.set(value, members);
      }
      members.set(key, row);
    }
  }

  private unindex(key: string, row: R): void {
    for (const [name, grouper] of Object.entries(this.groupers)) {
      const value = grouper(row);
      if (value === undefined) continue;
      const map = this.groupMap(name);
      const members = map.get(value);
      members?.delete(key);
      if (members?.size === 0) map.delete(value);
    }
  }
}

/** A table ordered by its primary key, for prefix scans (KV, tombstones). */
export class OrderedTable<R> extends Table<R> {
  private readonly tree: BTree<string, R>;

  constructor(primaryKey: (row: R) => string, groupers: Record<string, Grouper<R>>, journal: Journal) {
    const tree = new BTree<string, R>();
    super(tree, primaryKey, groupers, journal);
    this.tree = tree;
  }

  /** Rows whose key starts with `prefix`, in key order. */
  *prefix(prefix: string): Generator<R> {
    for (const [key, row] of this.tree.entries(prefix)) {
      if (!key.startsWith(prefix)) return;
      yield row;
    }
  }
}

/** A journaled map of small values (table indexes, lock delays). */
export class JournaledMap<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly journal: Journal) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  set(key: string, value: V | undefined): void {
    const had = this.map.has(key);
    const previous = this.map.get(key);
    if (value === undefined) this.map.delete(key);
    else this.map.set(key, value);
    this.journal.record(() => {
      if (had) this.map.set(key, previous as V);
      else this.map.delete(key);
    });
  }

  reset(entries: Iterable<[string, V]>): void {
    this.map.clear();
    for (const [key, value] of entries) this.map.set(key, value);
  }
}
