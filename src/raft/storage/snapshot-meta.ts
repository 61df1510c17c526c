import { z } from 'zod';
import { StorageError } from './errors.ts';
import type { Member } from './types.ts';

// What `meta.json` beside each snapshot's data says, and how snapshot folders are named and ordered.

const FORMAT_VERSION = 1;

export interface SnapshotMeta {
  /** The snapshot's folder name: `<term>-<index>-<stamp>`. */
  id: string;
  /** The last log entry the snapshot covers, and its term. */
  index: number;
  term: number;
  /** The cluster configuration as of `index`. */
  membership: Member[];
  /** Length of the data in bytes, and its SHA-256 (hex). */
  size: number;
  sha256: string;
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const membershipSchema = z.array(
  z.object({ id: z.string().min(1), address: z.string(), voter: z.boolean() }).strict(),
);

const metaFileSchema = z
  .object({
    version: z.literal(FORMAT_VERSION),
    id: z.string(),
    index: count,
    term: count,
    membership: membershipSchema,
    size: count,
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  })
  .strict();

/** A validated copy of a membership list handed in for a new snapshot. */
export function checkMembership(value: unknown): Member[] {
  const result = membershipSchema.safeParse(value);
  if (!result.success)
    throw new StorageError(`snapshot membership is invalid: ${describeIssues(result.error)}`);
  return result.data;
}

export function formatMeta(meta: SnapshotMeta): string {
  const { id, index, term, membership, size, sha256 } = meta;
  return `${JSON.stringify({ version: FORMAT_VERSION, id, index, term, membership, size, sha256 }, null, 2)}\n`;
}

/** Parses a snapshot's meta.json, which must describe the snapshot in folder `id`. */
export function parseMeta(text: string, id: string): SnapshotMeta {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StorageError(`snapshot ${id}: meta.json is not JSON: ${(err as Error).message}`);
  }
  const result = metaFileSchema.safeParse(json);
  if (!result.success) {
    throw new StorageError(`snapshot ${id}: meta.json is invalid: ${describeIssues(result.error)}`);
  }
  const { version: _version, ...meta } = result.data;
  const named = parseSnapshotId(id);
  if (meta.id !== id || named?.index !== meta.index || named.term !== meta.term) {
    throw new StorageError(
      `snapshot ${id}: meta.json describes ${meta.id} (term ${meta.term}, index ${meta.index})`,
    );
  }
  return meta;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

interface SnapshotName {
  term: number;
  index: number;
  stamp: number;
}

export function snapshotId({ term, index, stamp }: SnapshotName): string {
  return `${term}-${index}-${stamp}`;
}

/** The parts of a snapshot folder's name, or null for anything else found in the folder. */
export function parseSnapshotId(name: string): SnapshotName | null {
  const match = /^(\d+)-(\d+)-(\d+)$/.exec(name);
  if (!match) return null;
  const [term, index, stamp] = match.slice(1).map(Number) as [number, number, number];
  return [term, index, stamp].every(Number.isSafeInteger) ? { term, index, stamp } : null;
}

/** Orders snapshot ids newest first: by index, then term, then when they were taken. */
export function newestFirst(a: string, b: string): number {
  const x = parseSnapshotId(a);
  const y = parseSnapshotId(b);
  if (!x || !y) throw new StorageError(`not snapshot ids: ${a}, ${b}`);
  return y.index - x.index || y.term - x.term || y.stamp - x.stamp;
}
