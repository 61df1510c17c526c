import { dottedName, type Key } from './names.ts';

// go-metrics' InmemSink: values aggregated per fixed interval (Consul's is 10 s), which is what
// /v1/agent/metrics shows. go-metrics takes every value as a float32, so values are rounded to one here too.

export interface Label {
  readonly name: string;
  readonly value: string;
}

/** An interval's running aggregate of one counter or sample, as go-metrics' AggregateSample keeps it. */
export class AggregateSample {
  count = 0;
  /** Sum per second of the interval. */
  rate = 0;
  sum = 0;
  sumSq = 0;
  min = 0;
  max = 0;

  ingest(value: number, rateDenom: number): void {
    this.count++;
    this.sum += value;
    this.sumSq += value * value;
    if (value < this.min || this.count === 1) this.min = value;
    if (value > this.max || this.count === 1) this.max = value;
    this.rate = this.sum / rateDenom;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Sample standard deviation. Rounding can leave the variance a hair below zero, where Go's JSON would fail. */
  stddev(): number {
    const div = this.count * (this.count - 1);
    if (div === 0) return 0;
    return Math.sqrt(Math.max(0, this.count * this.sumSq - this.sum ** 2) / div);
  }
}

export interface GaugeValue {
  readonly name: string;
  readonly labels: readonly Label[];
  readonly value: number;
}

export interface SampledValue {
  readonly name: string;
  readonly labels: readonly Label[];
  readonly aggregate: AggregateSample;
}

/** One interval's values, keyed by go-metrics' hash: the dotted name followed by `;label=value` pairs. */
export class IntervalMetrics {
  readonly gauges = new Map<string, GaugeValue>();
  readonly counters = new Map<string, SampledValue>();
  readonly samples = new Map<string, SampledValue>();

  /** @param start the interval's start, in epoch milliseconds */
  constructor(readonly start: number) {}
}

export class InmemSink {
  private current: IntervalMetrics | undefined;
  private readonly rateDenom: number;

  constructor(
    readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.rateDenom = intervalMs / 1000;
  }

  setGauge(key: Key, value: number, labels: readonly Label[] = []): void {
    const [hash, name] = flatten(key, labels);
    this.interval().gauges.set(hash, { name, labels, value: Math.fround(value) });
  }

  incrCounter(key: Key, value: number, labels: readonly Label[] = []): void {
    this.ingest(this.interval().counters, key, value, labels);
  }

  addSample(key: Key, value: number, labels: readonly Label[] = []): void {
    this.ingest(this.interval().samples, key, value, labels);
  }

  /** The interval in progress; a new one starts once the clock passes its end. */
  interval(): IntervalMetrics {
    const now = this.now();
    const start = now - (now % this.intervalMs);
    if (this.current?.start !== start) this.current = new IntervalMetrics(start);
    return this.current;
  }

  private ingest(into: Map<string, SampledValue>, key: Key, value: number, labels: readonly Label[]): void {
    const [hash, name] = flatten(key, labels);
    let sampled = into.get(hash);
    if (!sampled) {
      sampled = { name, labels, aggregate: new AggregateSample() };
      into.set(hash, sampled);
    }
    sampled.aggregate.ingest(Math.fround(value), this.rateDenom);
  }
}

/** [hash, name]: go-metrics' flattenKeyLabels. */
function flatten(key: Key, labels: readonly Label[]): [string, string] {
  const name = dottedName(key);
  let hash = name;
  for (const label of labels) hash += `;${label.name}=${label.value}`.replaceAll(' ', '_');
  return [hash, name];
}
