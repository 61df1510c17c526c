import type { AgentFlavor } from './consul-api.ts';
import { referenceBinary } from './reference.ts';

// Consul, the reference binary built by scripts/install-test-peers.sh, with three settings the benchmark
// needs and documents in its notes:
// - performance.raft_multiplier = 1: Consul's documented production setting (its default of 5 is meant for
//   development machines and would make its failover five times slower than it is in production);
// - limits.http_max_conns_per_client raised from 200 to 15,000, so one load generator on one address can hold
//   the 11,000 connections of the blocking-query benchmark (Tribune has no such per-client limit; Consul
//   refuses a limit above the open-file limit, 20,000 here);
// - disable_update_check: this machine has no network to check with.

export const CONSUL_SETTINGS =
  'Consul: performance.raft_multiplier=1 (its production setting), http_max_conns_per_client raised for the load generator';

export function consulFlavor(): AgentFlavor | undefined {
  const binary = referenceBinary('consul');
  if (!binary) return undefined;
  return {
    system: 'consul',
    command: binary,
    prefixArgs: [],
    extraArgs: [
      '-hcl',
      'performance { raft_multiplier = 1 }',
      '-hcl',
      'limits { http_max_conns_per_client = 15000 }',
      '-hcl',
      'disable_update_check = true',
    ],
  };
}
