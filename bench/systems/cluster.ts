import type { ServerProcess } from './process.ts';

// What every benchmarked system offers the benchmarks: its members (one per loopback address), the leader,
// and teardown. Tribune and Consul share one implementation (consul-api.ts: same flags, same HTTP API);
// etcd has its own (etcd.ts).

export type SystemName = 'tribune' | 'consul' | 'etcd';

export interface Member {
  readonly name: string;
  readonly host: string;
  /** Base URL of the client API: http://host:8500 (Tribune, Consul) or http://host:2379 (etcd). */
  readonly url: string;
  readonly process: ServerProcess;
}

export interface Cluster {
  readonly system: SystemName;
  readonly members: Member[];
  /** The member that every running member names as leader; waits for one. */
  leader(timeoutMs?: number): Promise<Member>;
  /** Stops every member (kill -9, or SIGTERM when profiling so --cpu-prof can write) and removes data dirs. */
  destroy(): Promise<void>;
}

/** Sum of the members' resident memory, in bytes (running members only). */
export function clusterRss(cluster: Cluster): number {
  return cluster.members.filter((m) => m.process.isRunning()).reduce((sum, m) => sum + m.process.rss(), 0);
}
