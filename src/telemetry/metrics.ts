import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Applier } from '../state/applier.ts';
import type { Command } from '../state/commands.ts';
import type { CommandResult } from '../state/fsm.ts';
import type { StateStore } from '../state/store.ts';
import { InmemSink } from './inmem-sink.ts';
import { CounterMetric, GaugeMetric, Level, type Sinks, Timer } from './instruments.ts';
import { dottedName, type Key } from './names.ts';
import { type MetricsSummary, summarize } from './summary.ts';

// The agent's metrics under Consul's names, so existing dashboards and alerts keep working: Prometheus text
// from prom-client (which adds Node's own process_* and nodejs_* metrics), and the JSON of go-metrics'
// in-memory sink.

/** Consul's timer for each command kind: its RPC endpoint's, or the FSM's for the leader's own commands. */
const APPLY_TIMER: Record<Command['type'], { key: Key; labels: Readonly<Record<string, string>> }> = {
  kv: { key: ['kvs', 'apply'], labels: {} },
  txn: { key: ['txn', 'apply'], labels: {} },
  'session-create': { key: ['session', 'apply'], labels: {} },
  'session-destroy': { key: ['session', 'apply'], labels: {} },
  register: { key: ['catalog', 'register'], labels: {} },
  deregister: { key: ['catalog', 'deregister'], labels: {} },
  'tombstone-reap': { key: ['fsm', 'tombstone'], labels: { op: 'reap' } },
  'query-set': { key: ['prepared-query', 'apply'], labels: {} },
  'query-delete': { key: ['prepared-query', 'apply'], labels: {} },
};

export class Metrics {
  readonly registry = new Registry();
  private readonly inmem = new InmemSink();
  private readonly sinks: Sinks = { registry: this.registry, inmem: this.inmem };
  readonly httpRequests = new Timer(
    this.sinks,
    ['api', 'http'],
    'Time to serve an HTTP API request, in milliseconds',
    ['method', 'path'],
  );
  readonly blockingQueries = new Level();
  readonly raftApply = new CounterMetric(this.sinks, ['raft', 'apply'], 'Commands applied through the log');
  private readonly applyTimers = new Map<string, Timer>();
  private readonly gauges: GaugeMetric[] = [];

  constructor(store: StateStore) {
    collectDefaultMetrics({ register: this.registry });
    for (const { key, labels } of Object.values(APPLY_TIMER)) {
      const name = dottedName(key);
      if (this.applyTimers.has(name)) continue;
      const help = `Time to apply ${key.join(' ')} commands, in milliseconds`;
      this.applyTimers.set(name, new Timer(this.sinks, key, help, Object.keys(labels)));
    }
    const gauge = (key: Key, help: string, read: () => number) =>
      this.gauges.push(new GaugeMetric(this.sinks, key, help, read));
    gauge(
      ['rpc', 'queries_blocking'],
      'Blocking queries currently waiting',
      () => this.blockingQueries.value,
    );
    gauge(['state', 'nodes'], 'Nodes in the catalog', () => store.db.nodes.size);
    gauge(['state', 'service_instances'], 'Service instances in the catalog', () => store.db.services.size);
    gauge(
      ['state', 'services'],
      'Distinct service names',
      () => [...store.db.services.groupKeys('name')].length,
    );
    gauge(['state', 'kv_entries'], 'Entries in the KV store', () => store.db.kvs.size);
    gauge(['session_ttl', 'active'], 'Sessions in the state store', () => store.db.sessions.size);
    gauge(['runtime', 'alloc_bytes'], 'Heap bytes in use', () => process.memoryUsage().heapUsed);
    gauge(['runtime', 'sys_bytes'], 'Resident set size in bytes', () => process.memoryUsage().rss);
  }

  /**
   * The JSON form of /v1/agent/metrics: the current interval's aggregates, with every gauge read now.
   * go-metrics shows the last finished interval once there is one; showing the one in progress instead lets
   * a client see the metrics of a request it has just made.
   */
  summary(): MetricsSummary {
    for (const gauge of this.gauges) gauge.sample();
    return summarize(this.inmem.interval());
  }

  /** Wraps an applier so every command is counted and timed under Consul's metric for its kind. */
  metered(applier: Applier): Applier {
    return {
      restore: (state) => applier.restore(state),
      apply: async <C extends Command>(cmd: C): Promise<CommandResult<C>> => {
        const started = performance.now();
        try {
          return await applier.apply(cmd);
        } finally {
          const { key, labels } = APPLY_TIMER[cmd.type];
          this.applyTimers.get(dottedName(key))!.observe(labels, performance.now() - started);
          this.raftApply.inc();
        }
      },
    };
  }
}
