import type { Cluster, Member } from '../systems/cluster.ts';
import { etcdTarget } from '../systems/etcd.ts';
import { EtcdClient } from './etcd-client.ts';
import { HttpTarget } from './http-client.ts';

// KV operations as each system's clients perform them, over `connections` connections:
// - Tribune and Consul: the HTTP API (PUT /v1/kv/<key>, GET with ?consistent or ?stale), every connection to
//   the member given (the benchmarks pass the leader: followers would forward writes to it anyway);
// - etcd: gRPC KV.Put / KV.Range as etcd's Go client (clientv3) does it: one HTTP/2 connection per member,
//   the concurrent requests multiplexed on them and spread round-robin over the members (a follower
//   forwards writes to the leader and serves linearizable reads by ReadIndex). 64 separate gRPC connections
//   were measured too: etcd did ~30% less through them, with the load generator's CPU the same, so the
//   benchmark uses the client's own layout.
// Read modes line up as: default (Consul's leader-lease read; etcd has none), consistent (?consistent /
// etcd linearizable), stale (?stale / etcd serializable).

export type ReadMode = 'default' | 'consistent' | 'stale';

export interface KvDriver {
  put(connection: number, key: string, value: string): Promise<void>;
  /** Throws unless the key was found. */
  get(connection: number, key: string, mode: ReadMode): Promise<void>;
  close(): Promise<void>;
}

const QUERY: Record<ReadMode, string> = { default: '', consistent: '?consistent', stale: '?stale' };

export function httpKv(member: Member, connections: number): KvDriver {
  const target = new HttpTarget(member.url, connections);
  return {
    async put(_connection, key, value) {
      const reply = await target.request('PUT', `/v1/kv/${key}`, value);
      if (reply.status !== 200 || reply.body.trim() !== 'true') {
        throw new Error(`PUT ${key}: ${reply.status} ${reply.body.slice(0, 200)}`);
      }
    },
    async get(_connection, key, mode) {
      await target.expectOk('GET', `/v1/kv/${key}${QUERY[mode]}`);
    },
    close: () => target.close(),
  };
}

/** `streams` concurrent requests over one connection per member, request i on member i mod members. */
export function etcdKv(cluster: Cluster): KvDriver {
  const clients = cluster.members.map((member) => new EtcdClient(etcdTarget(member)));
  const client = (stream: number) => clients[stream % clients.length]!;
  return {
    put: (stream, key, value) => client(stream).put(key, value),
    async get(stream, key, mode) {
      if (mode === 'default') throw new Error('etcd has no leader-lease read mode');
      const found = await client(stream).get(key, mode === 'stale');
      if (found === 0) throw new Error(`etcd: ${key} not found`);
    },
    async close() {
      for (const client of clients) client.close();
    },
  };
}

/** The driver for a cluster: `connections` HTTP connections to `member` (Tribune, Consul), or gRPC over one
 * connection per member (etcd). */
export function kvDriver(cluster: Cluster, member: Member, connections: number): KvDriver {
  return cluster.system === 'etcd' ? etcdKv(cluster) : httpKv(member, connections);
}

/** A small value (16 bytes) that differs per write. */
export const smallValue = (loop: number, n: number) =>
  `v${String(loop).padStart(3, '0')}-${String(n).padStart(11, '0')}`;
