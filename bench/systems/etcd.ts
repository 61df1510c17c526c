import { join } from 'node:path';
import { EtcdClient } from '../load/etcd-client.ts';
import type { Cluster, Member } from './cluster.ts';
import { loopbackBlock, waitFor } from './net.ts';
import { removeDir, scratchDir, spawnServer } from './process.ts';
import { referenceBinary } from './reference.ts';

// A 3-member etcd cluster (the reference binary from scripts/install-test-peers.sh), each member on its own
// loopback address with etcd's default ports (client 2379, peer 2380), its default timings (heartbeat
// 100 ms, election 1000 ms) and fsync on (etcd's default; the data dirs are on disk).

const CLIENT_PORT = 2379;
const PEER_PORT = 2380;

export const ETCD_SETTINGS = 'etcd: default heartbeat 100 ms / election 1000 ms, fsync on';

export function etcdAvailable(): boolean {
  return referenceBinary('etcd') !== undefined;
}

export async function startEtcdCluster(size: number): Promise<Cluster> {
  const binary = referenceBinary('etcd');
  if (!binary) throw new Error('etcd reference binary missing');
  const hosts = loopbackBlock(size);
  const dir = scratchDir('etcd-cluster');
  const names = hosts.map((_, i) => `etcd-m${i + 1}`);
  const initialCluster = hosts.map((host, i) => `${names[i]}=http://${host}:${PEER_PORT}`).join(',');
  const members: Member[] = hosts.map((host, i) => {
    const name = names[i]!;
    const clientUrl = `http://${host}:${CLIENT_PORT}`;
    const peerUrl = `http://${host}:${PEER_PORT}`;
    const args = [
      '--name',
      name,
      '--data-dir',
      join(dir, name),
      '--listen-client-urls',
      clientUrl,
      '--advertise-client-urls',
      clientUrl,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      initialCluster,
      '--initial-cluster-state',
      'new',
      '--initial-cluster-token',
      `bench-${hosts[0]}`,
      '--log-level',
      'warn',
    ];
    const process = spawnServer(name, binary, args, join(dir, `${name}.log`));
    return { name, host, url: clientUrl, process };
  });
  const cluster: Cluster = {
    system: 'etcd',
    members,
    leader: (timeoutMs = 60_000) => etcdLeader(members, timeoutMs),
    async destroy() {
      await Promise.all(members.map((m) => m.process.kill9()));
      removeDir(dir);
    },
  };
  try {
    const leader = await etcdLeader(members, 60_000, () => members.every((m) => m.process.isRunning()));
    const client = new EtcdClient(`${leader.host}:${CLIENT_PORT}`);
    await waitFor('a first etcd write', () => client.put('bench/ready', 'ready', 2000).then(() => true));
    client.close();
  } catch (error) {
    const logs = members.map((m) => `--- ${m.name}\n${m.process.logTail(15)}`).join('\n');
    await cluster.destroy();
    throw new Error(`etcd cluster did not come up: ${(error as Error).message}\n${logs}`);
  }
  return cluster;
}

/** gRPC target (host:port) of a member's client API. */
export const etcdTarget = (member: Member) => `${member.host}:${CLIENT_PORT}`;

async function etcdLeader(
  members: Member[],
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<Member> {
  const clients = members.map((m) => new EtcdClient(etcdTarget(m)));
  try {
    return await waitFor(
      'one etcd leader named by every running member',
      async () => {
        const running = members
          .map((m, i) => ({ m, c: clients[i]! }))
          .filter(({ m }) => m.process.isRunning());
        const views = await Promise.all(running.map(({ c }) => c.status().catch(() => undefined)));
        if (views.some((v) => !v || v.leader === '0' || v.leader !== views[0]!.leader)) return undefined;
        const index = views.findIndex((v) => v!.memberId === v!.leader);
        return index >= 0 ? running[index]!.m : undefined;
      },
      timeoutMs,
      50,
      alive,
    );
  } finally {
    for (const c of clients) c.close();
  }
}
