// What `snapshot inspect` reports about a snapshot's state.bin: records per type with their encoded sizes,
// named as Consul's snapshot records are, and optionally KV usage by key prefix. Also the two ways Consul
// prints that: Go's text/tabwriter layout and indented JSON.
import { decodeValue, encodeValue } from '../state/codec.ts';
import { goJson } from './go-json.ts';

export interface TypeStats {
  Name: string;
  /** Bytes the records take in state.bin. */
  Sum: number;
  Count: number;
}

export interface StateStats {
  /** Sorted by size, largest first, then by name. */
  types: TypeStats[];
  totalSize: number;
  /** Per key prefix, only when KV details were asked for. */
  kv: TypeStats[] | null;
  totalSizeKV: number;
}

export interface KvBreakdown {
  /** How many `/`-separated segments of each key name its group. */
  depth: number;
  /** Only keys starting with this count. */
  filter: string;
}

/** The tables of Tribune's state document, in the order Consul's snapshots list records, with Consul's names. */
const RECORD_TYPES: readonly (readonly [table: string, name: string])[] = [
  // Consul writes a node, each of its services and each of its checks as one Register record apiece.
  ['nodes', 'Register'],
  ['services', 'Register'],
  ['checks', 'Register'],
  ['sessions', 'Session'],
  ['kvs', 'KVS'],
  ['tombstones', 'Tombstone'],
  ['indexes', 'Index'],
  // Consul keeps lock delays in memory only; Tribune's snapshots carry them, under a name of their own.
  ['lockDelays', 'LockDelay'],
];

const STATE_FORMAT_VERSION = 1;

/** Counts and sizes the records of a state.bin; throws an Error saying why when it is not one. */
export function stateStats(state: Uint8Array, kvBreakdown?: KvBreakdown): StateStats {
  let document: unknown;
  try {
    document = decodeValue(state);
  } catch (err) {
    throw new Error(`state.bin is not valid msgpack: ${(err as Error).message}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new Error('state.bin does not hold a state document');
  const tables = document as Record<string, unknown>;
  if (tables.version !== STATE_FORMAT_VERSION)
    throw new Error(`unsupported state format version ${String(tables.version)}`);

  const byType = new Map<string, TypeStats>();
  const byPrefix = new Map<string, TypeStats>();
  let totalSize = 0;
  let totalSizeKV = 0;
  for (const [table, name] of RECORD_TYPES) {
    const records = tables[table] ?? [];
    if (!Array.isArray(records)) throw new Error(`state.bin table ${table} is not a list`);
    for (const record of records) {
      const size = encodeValue(record).length;
      add(byType, name, size);
      totalSize += size;
      if (kvBreakdown && table === 'kvs') {
        const key = (record as { Key?: unknown }).Key;
        if (typeof key !== 'string' || !key.startsWith(kvBreakdown.filter)) continue;
        add(byPrefix, keyPrefix(key, kvBreakdown.depth), size);
        totalSizeKV += size;
      }
    }
  }
  return {
    types: sortStats([...byType.values()]),
    totalSize,
    kv: kvBreakdown ? sortStats([...byPrefix.values()]) : null,
    totalSizeKV,
  };
}

function add(stats: Map<string, TypeStats>, name: string, size: number): void {
  const entry = stats.get(name) ?? { Name: name, Sum: 0, Count: 0 };
  entry.Sum += size;
  entry.Count++;
  stats.set(name, entry);
}

/** The first `depth` segments of the key, or all of them when it has fewer. */
function keyPrefix(key: string, depth: number): string {
  return key.split('/').slice(0, Math.max(depth, 0)).join('/');
}

/** Largest first; equal sizes by name, compared bytewise as Go compares strings. */
function sortStats(stats: TypeStats[]): TypeStats[] {
  return stats.sort((a, b) => b.Sum - a.Sum || Buffer.compare(Buffer.from(a.Name), Buffer.from(b.Name)));
}

export interface SnapshotMetaInfo {
  ID: string;
  Size: number;
  Index: number;
  Term: number;
  Version: number;
}

/** Consul's "pretty" inspect output: the metadata block, the per-type table, then the KV table if any. */
export function formatPretty(meta: SnapshotMetaInfo, stats: StateStats): string {
  let text = ` ID\t${meta.ID}`;
  text += `\n Size\t${meta.Size}`;
  text += `\n Index\t${meta.Index}`;
  text += `\n Term\t${meta.Term}`;
  text += `\n Version\t${meta.Version}`;
  text += '\n';
  text += statsTable('Type', stats.types, stats.totalSize);
  if (stats.kv !== null) {
    text += '\n';
    text += statsTable('Key Name', stats.kv, stats.totalSizeKV);
  }
  return tabwrite(text, { minWidth: 8, padding: 6 });
}

function statsTable(title: string, rows: TypeStats[], total: number): string {
  let text = `\n ${title}\tCount\tSize\n`;
  text += ' ----\t----\t----';
  for (const row of rows) text += `\n ${row.Name}\t${row.Count}\t${byteSize(row.Sum)}`;
  text += '\n ----\t----\t----';
  text += `\n Total\t\t${byteSize(total)}`;
  return text;
}

/** Consul's "json" inspect output: MarshalIndent with three spaces. */
export function formatJson(meta: SnapshotMetaInfo, stats: StateStats): string {
  return goJson(
    {
      Meta: { ID: meta.ID, Size: meta.Size, Index: meta.Index, Term: meta.Term, Version: meta.Version },
      Stats: stats.types,
      StatsKV: stats.kv,
      TotalSize: stats.totalSize,
      TotalSizeKV: stats.totalSizeKV,
    },
    '   ',
  );
}

const UNITS: readonly [bigint, string][] = [
  [1n << 40n, 'TB'],
  [1n << 30n, 'GB'],
  [1n << 20n, 'MB'],
  [1n << 10n, 'KB'],
  [1n, 'B'],
];

/**
 * Consul's ByteSize: one decimal, a trailing ".0" dropped ("1.7KB", "12B", "0"). The decimal is rounded as
 * Go's strconv rounds the exact value, half to even, where toFixed would round half up.
 */
export function byteSize(bytes: number): string {
  if (bytes === 0) return '0';
  const value = BigInt(bytes);
  const [unit, suffix] = UNITS.find(([size]) => value >= size)!;
  const scaled = value * 10n;
  let tenths = scaled / unit;
  const twiceRest = (scaled % unit) * 2n;
  if (twiceRest > unit || (twiceRest === unit && tenths % 2n === 1n)) tenths++;
  const whole = tenths / 10n;
  const fraction = tenths % 10n;
  return `${whole}${fraction === 0n ? '' : `.${fraction}`}${suffix}`;
}

/**
 * Go's text/tabwriter with a space pad character and no flags: cells end at tabs, a column's width is its
 * widest cell plus `padding` (at least `minWidth`), and a column runs over consecutive lines that have a
 * cell there, so a line without one starts a new block. A line's last, unterminated cell is never padded.
 */
export function tabwrite(text: string, { minWidth, padding }: { minWidth: number; padding: number }): string {
  const lines = text.split('\n').map((line) => line.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];
  const width = (cell: string) => [...cell].length;
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      out.push(
        lines[i]!.map((cell, j) =>
          j < widths.length ? cell + ' '.repeat(widths[j]! - width(cell)) : cell,
        ).join(''),
      );
    }
  };
  const format = (first: number, end: number) => {
    const column = widths.length;
    let line0 = first;
    let i = first;
    while (i < end) {
      if (column >= lines[i]!.length - 1) {
        i++;
        continue;
      }
      writeLines(line0, i);
      line0 = i;
      let columnWidth = minWidth;
      for (; i < end && column < lines[i]!.length - 1; i++) {
        columnWidth = Math.max(columnWidth, width(lines[i]![column]!) + padding);
      }
      widths.push(columnWidth);
      format(line0, i);
      widths.pop();
      line0 = i;
    }
    writeLines(line0, end);
  };
  format(0, lines.length);
  return out.join('\n');
}
