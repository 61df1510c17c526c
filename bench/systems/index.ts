import type { Cluster, SystemName } from './cluster.ts';
import { consulFlavor } from './consul.ts';
import { type AgentFlavor, startAgentCluster, startDevAgent } from './consul-api.ts';
import { etcdAvailable, startEtcdCluster } from './etcd.ts';
import { missingReferenceNote } from './reference.ts';
import { tribuneFlavor } from './tribune.ts';

// The systems a benchmark compares, Tribune first, each with how to start it; references whose binary is
// missing are left out with a note saying so (or fail the run under TRIBUNE_REQUIRE_PEERS=1).

export interface BenchSystem {
  readonly name: SystemName;
  startCluster(size: number): Promise<Cluster>;
  /** Present for Tribune and Consul (etcd has no dev agent). */
  readonly flavor?: AgentFlavor;
}

export interface SystemChoice {
  systems: BenchSystem[];
  notes: string[];
}

const agentSystem = (flavor: AgentFlavor): BenchSystem => ({
  name: flavor.system,
  flavor,
  startCluster: (size) => startAgentCluster(flavor, size),
});

/** TRIBUNE_BENCH_SYSTEMS=tribune (a comma list) limits a run to those systems, e.g. to profile Tribune alone. */
function allowed(name: SystemName): boolean {
  const only = process.env.TRIBUNE_BENCH_SYSTEMS;
  return !only || only.split(',').includes(name);
}

export function chooseSystems(wanted: SystemName[]): SystemChoice {
  const systems: BenchSystem[] = [];
  const notes: string[] = [];
  for (const name of wanted.filter(allowed)) {
    if (name === 'tribune') systems.push(agentSystem(tribuneFlavor()));
    if (name === 'consul') {
      const flavor = consulFlavor();
      if (flavor) systems.push(agentSystem(flavor));
      else notes.push(missingReferenceNote('consul'));
    }
    if (name === 'etcd') {
      if (etcdAvailable()) systems.push({ name: 'etcd', startCluster: startEtcdCluster });
      else notes.push(missingReferenceNote('etcd'));
    }
  }
  return { systems, notes };
}

export { startDevAgent };
