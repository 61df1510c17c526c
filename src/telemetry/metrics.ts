import { Counter, collectDefaultMetrics, Gauge, Registry, Summary } from 'prom-client';
import type { Applier } from '../state/applier.ts';
import type { Command } from '../state/commands.ts';
import type { CommandResult } from '../state/fsm.ts';
import type { StateStore } from '../state/store.ts';

// The agent's metrics, named as Consul names them (dots become underscores in Prometheus form), so existing
// dashboards and alerts keep working.

const QUANTILES = [0.5, 0.9, 0.99];

const APPLY_METRIC: Record<Command['type'], string> = {
  kv: 'consul_kvs_apply',
  txn: 'consul_txn_apply',
  'session-create': 'consul_session_apply',
  'session-destroy': 'consul_session_apply',
  register: 'consul_catalog_register',
  deregister: 'consul_catalog_deregister',
  'tombstone-reap': 'consul_fsm_tombstone_reap',
};

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Summary({
    name: 'consul_api_http',
    help: 'Time to serve an HTTP API request, in milliseconds',
    labelNames: ['method', 'path'],
    percentiles: QUANTILES,
    registers: [this.registry],
  });
  readonly blockingQueries = new Gauge({
    name: 'consul_rpc_queries_blocking',
    help: 'Blocking queries currently waiting',
    registers: [this.registry],
  });
  readonly raftApply = new Counter({
    name: 'consul_raft_apply',
    help: 'Commands applied through the log',
    registers: [this.registry],
  });
  private readonly applyTimers = new Map<string, Summary>();

  constructor(store: StateStore) {
    collectDefaultMetrics({ register: this.registry });
    for (const name of new Set(Object.values(APPLY_METRIC))) {
      this.applyTimers.set(
        name,
        new Summary({
          name,
          help: `Time to apply ${name.replace('consul_', '')} commands, in milliseconds`,
          percentiles: QUANTILES,
          registers: [this.registry],
        }),
      );
    }
    const stateGauge = (name: string, help: string, count: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(count());
        },
      });
    stateGauge('consul_state_nodes', 'Nodes in the catalog', () => store.db.nodes.size);
    stateGauge(
      'consul_state_service_instances',
      'Service instances in the catalog',
      () => store.db.services.size,
    );
    stateGauge(
      'consul_state_services',
      'Distinct service names',
      () => [...store.db.services.groupKeys('name')].length,
    );
    stateGauge('consul_state_kv_entries', 'Entries in the KV store', () => store.db.kvs.size);
    stateGauge('consul_session_ttl_active', 'Sessions in the state store', () => store.db.sessions.size);
    stateGauge('consul_runtime_alloc_bytes', 'Heap bytes in use', () => process.memoryUsage().heapUsed);
    stateGauge('consul_runtime_sys_bytes', 'Resident set size in bytes', () => process.memoryUsage().rss);
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
          // Consul reports timings in milliseconds (prom-client's own timers measure seconds).
          this.applyTimers.get(APPLY_METRIC[cmd.type])!.observe(performance.now() - started);
          this.raftApply.inc();
        }
      },
    };
  }
}
