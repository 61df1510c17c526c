import type { SystemName } from '../systems/cluster.ts';

// A benchmark's outcome as rows of figures per system, and the markdown table of them. Every row says which
// direction is better, and ratios are oriented by it: Tribune/reference for "higher", reference/Tribune for
// "lower", so a ratio ≥ 1 always means Tribune is ahead.

export type Better = 'higher' | 'lower';

export interface Row {
  readonly metric: string;
  readonly better: Better;
  readonly values: Partial<Record<SystemName, number>>;
  /** Digits after the point when printing the figures. */
  readonly digits?: number;
}

export interface Section {
  readonly benchmark: string;
  /** One line saying what was measured and how. */
  readonly description: string;
  readonly rows: Row[];
  readonly notes: string[];
}

export const REFERENCES = ['consul', 'etcd'] as const;
export type Reference = (typeof REFERENCES)[number];

export function ratio(row: Row, reference: Reference): number | undefined {
  const ours = row.values.tribune;
  const theirs = row.values[reference];
  if (ours === undefined || theirs === undefined || !Number.isFinite(ours) || !Number.isFinite(theirs)) {
    return undefined;
  }
  if (ours === 0 || theirs === 0) return undefined;
  return row.better === 'higher' ? ours / theirs : theirs / ours;
}

function figure(value: number | undefined, digits: number): string {
  if (value === undefined) return '—';
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const ratioText = (r: number | undefined) => (r === undefined ? '—' : `${r.toFixed(2)}${r < 1 ? ' ▼' : ''}`);

const HEADER = [
  '| benchmark | metric | better | Tribune | Consul | etcd | Tribune/Consul | Tribune/etcd |',
  '|---|---|---|--:|--:|--:|--:|--:|',
];

function rowLines(section: Section): string[] {
  return section.rows.map((row) => {
    const digits = row.digits ?? 0;
    return `| ${section.benchmark} | ${row.metric} | ${row.better} | ${figure(row.values.tribune, digits)} | ${figure(row.values.consul, digits)} | ${figure(row.values.etcd, digits)} | ${ratioText(ratio(row, 'consul'))} | ${ratioText(ratio(row, 'etcd'))} |`;
  });
}

/** One section's table with its description and notes, as printed after each benchmark. */
export function sectionMarkdown(section: Section): string {
  const notes = section.notes.map((n) => `- ${n}`);
  return [
    `### ${section.benchmark}`,
    '',
    section.description,
    '',
    ...HEADER,
    ...rowLines(section),
    '',
    ...notes,
  ]
    .join('\n')
    .trimEnd();
}

/** Every section's rows in one table. */
export function summaryTable(sections: Section[]): string {
  return [...HEADER, ...sections.flatMap(rowLines)].join('\n');
}
