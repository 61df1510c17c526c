import type { IntervalMetrics, Label, SampledValue } from './inmem-sink.ts';

// go-metrics' MetricsSummary, the JSON body of /v1/agent/metrics, field for field and in its order: entries
// sorted by hash, labels as a map (encoding/json writes map keys sorted), gauge values printed as float32s.

export interface GaugeJson {
  Name: string;
  Value: number;
  Labels: Record<string, string>;
}

export interface SampledJson {
  Name: string;
  Count: number;
  Rate: number;
  Sum: number;
  Min: number;
  Max: number;
  Mean: number;
  Stddev: number;
  Labels: Record<string, string>;
}

export interface MetricsSummary {
  Timestamp: string;
  Gauges: GaugeJson[];
  /** go-metrics' EmitKey values; Tribune emits none, as Consul does not. */
  Points: { Name: string; Points: number[] }[];
  Counters: SampledJson[];
  Samples: SampledJson[];
}

export function summarize(interval: IntervalMetrics): MetricsSummary {
  return {
    Timestamp: goUtcString(interval.start),
    Gauges: byHash(interval.gauges).map((g) => ({
      Name: g.name,
      Value: float32Json(g.value),
      Labels: displayLabels(g.labels),
    })),
    Points: [],
    Counters: byHash(interval.counters).map(sampled),
    Samples: byHash(interval.samples).map(sampled),
  };
}

/** Go's time.Time.String() of a UTC instant rounded to the second: `2026-11-30 13:20:00 +0000 UTC`. */
export function goUtcString(epochMs: number): string {
  const iso = new Date(Math.round(epochMs / 1000) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

/**
 * The shortest decimal that reads back as the same float32, as Go's encoding/json prints a float32, so a
 * heap of 123456789 bytes shows as 123456790 rather than float32's exact 123456792.
 */
export function float32Json(value: number): number {
  const single = Math.fround(value);
  if (!Number.isFinite(single)) return single;
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(single.toPrecision(digits));
    if (Math.fround(shorter) === single) return shorter;
  }
  return Number(single.toPrecision(9));
}

function sampled(value: SampledValue): SampledJson {
  const a = value.aggregate;
  return {
    Name: value.name,
    Count: a.count,
    Rate: a.rate,
    Sum: a.sum,
    Min: a.min,
    Max: a.max,
    Mean: a.mean(),
    Stddev: a.stddev(),
    Labels: displayLabels(value.labels),
  };
}

/** Values ordered by hash, as Go's `<` on strings orders them (the same for ASCII names and labels). */
function byHash<V>(values: Map<string, V>): V[] {
  return [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, value]) => value);
}

/** Labels as a map; a repeated name keeps its last value, as go-metrics' map assignment does. */
function displayLabels(labels: readonly Label[]): Record<string, string> {
  const map = new Map<string, string>();
  for (const label of labels) map.set(label.name, label.value);
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
