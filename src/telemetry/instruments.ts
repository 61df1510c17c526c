import { Counter, Gauge, type Registry, Summary } from 'prom-client';
import type { InmemSink } from './inmem-sink.ts';
import { type Key, prometheusName } from './names.ts';

// Each instrument records into both of the agent's sinks, as Consul's go-metrics fans out to its Prometheus
// and in-memory sinks: prom-client keeps cumulative values for ?format=prometheus, the inmem sink keeps
// the 10 s aggregates of the JSON form.

export interface Sinks {
  readonly registry: Registry;
  readonly inmem: InmemSink;
}

const QUANTILES = [0.5, 0.9, 0.99];

/** Durations in milliseconds, as Consul's MeasureSince reports them (prom-client's own timers use seconds). */
export class Timer<L extends string = string> {
  private readonly summary: Summary<L>;

  constructor(
    private readonly sinks: Sinks,
    private readonly key: Key,
    help: string,
    private readonly labelNames: readonly L[] = [],
  ) {
    this.summary = new Summary({
      name: prometheusName(key),
      help,
      labelNames,
      percentiles: QUANTILES,
      registers: [sinks.registry],
    });
  }

  observe(labels: Readonly<Record<L, string>>, ms: number): void {
    this.summary.observe(labels, ms);
    // In the declared order, which is the order of go-metrics' hash.
    const pairs = this.labelNames.map((name) => ({ name, value: labels[name] }));
    this.sinks.inmem.addSample(this.key, ms, pairs);
  }
}

export class CounterMetric {
  private readonly counter: Counter;

  constructor(
    private readonly sinks: Sinks,
    private readonly key: Key,
    help: string,
  ) {
    this.counter = new Counter({ name: prometheusName(key), help, registers: [sinks.registry] });
  }

  inc(by = 1): void {
    this.counter.inc(by);
    this.sinks.inmem.incrCounter(this.key, by);
  }
}

/** A gauge read when it is scraped or summarised, so both forms show the value of that moment. */
export class GaugeMetric {
  constructor(
    private readonly sinks: Sinks,
    private readonly key: Key,
    help: string,
    private readonly read: () => number,
  ) {
    new Gauge({
      name: prometheusName(key),
      help,
      registers: [sinks.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Sets the gauge in the inmem sink's current interval. */
  sample(): void {
    this.sinks.inmem.setGauge(this.key, this.read());
  }
}

/** A level that goes up and down, such as queries in flight; read through a GaugeMetric. */
export class Level {
  value = 0;

  inc(): void {
    this.value++;
  }

  dec(): void {
    this.value--;
  }
}
