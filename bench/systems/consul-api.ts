import { join } from 'node:path';
import type { Cluster, Member, SystemName } from './cluster.ts';
import { fetchText, loopbackBlock, waitFor } from './net.ts';
import { removeDir, scratchDir, spawnServer } from './process.ts';

// Tribune and Consul take the same agent flags and answer the same HTTP API, so one module starts either:
// a server cluster (each server on its own loopback address with the default ports, -bootstrap-expect and
// -retry-join to the others, a data dir on disk so Raft fsyncs) or a dev agent.

export interface AgentFlavor {
  readonly system: Extract<SystemName, 'tribune' | 'consul'>;
  readonly command: string;
  /** Arguments before `agent …` (Tribune's node entry point). */
  readonly prefixArgs: string[];
  /** Extra agent flags the system needs for the benchmark (documented where they are defined). */
  readonly extraArgs: string[];
  readonly env?: NodeJS.ProcessEnv;
  /** True when stopping should be graceful (Tribune under --cpu-prof writes its profile on exit). */
  readonly gracefulStop?: boolean;
}

const HTTP_PORT = 8500;

const commonFlags = (host: string, name: string) => [
  '-bind',
  host,
  '-client',
  host,
  '-node',
  name,
  '-log-level',
  'warn',
];

function makeCluster(flavor: AgentFlavor, members: Member[], dir: string): Cluster {
  return {
    system: flavor.system,
    members,
    leader: (timeoutMs = 60_000) => awaitLeader(members, timeoutMs),
    async destroy() {
      await Promise.all(
        members.map((m) => (flavor.gracefulStop ? m.process.stop(10_000) : m.process.kill9())),
      );
      removeDir(dir);
    },
  };
}

/** `size` servers that bootstrap together; resolves once they agree on a leader that accepts writes. */
export async function startAgentCluster(flavor: AgentFlavor, size: number): Promise<Cluster> {
  const hosts = loopbackBlock(size);
  const dir = scratchDir(`${flavor.system}-cluster`);
  const members: Member[] = hosts.map((host, i) => {
    const name = `${flavor.system}-s${i + 1}`;
    const dataDir = join(dir, name);
    const args = [
      ...flavor.prefixArgs,
      'agent',
      '-server',
      '-data-dir',
      dataDir,
      '-bootstrap-expect',
      String(size),
      ...hosts.filter((h) => h !== host).flatMap((h) => ['-retry-join', h]),
      ...commonFlags(host, name),
      ...flavor.extraArgs,
    ];
    const process = spawnServer(name, flavor.command, args, join(dir, `${name}.log`), flavor.env);
    return { name, host, url: `http://${host}:${HTTP_PORT}`, process };
  });
  const cluster = makeCluster(flavor, members, dir);
  try {
    const leader = await awaitLeader(members, 60_000, () => members.every((m) => m.process.isRunning()));
    await awaitWritable(leader);
  } catch (error) {
    const logs = members.map((m) => `--- ${m.name}\n${m.process.logTail(15)}`).join('\n');
    await cluster.destroy();
    throw new Error(`${flavor.system} cluster did not come up: ${(error as Error).message}\n${logs}`);
  }
  return cluster;
}

/** A dev agent (in-memory state) on a fresh loopback address; resolves once it has a leader. */
export async function startDevAgent(flavor: AgentFlavor): Promise<{ cluster: Cluster; startedAt: number }> {
  const [host] = loopbackBlock(1) as [string];
  const dir = scratchDir(`${flavor.system}-dev`);
  const name = `${flavor.system}-dev`;
  const startedAt = performance.now();
  const process = spawnServer(
    name,
    flavor.command,
    [...flavor.prefixArgs, 'agent', '-dev', ...commonFlags(host, name), ...flavor.extraArgs],
    join(dir, `${name}.log`),
    flavor.env,
  );
  const member = { name, host, url: `http://${host}:${HTTP_PORT}`, process };
  return { cluster: makeCluster(flavor, [member], dir), startedAt };
}

export async function awaitLeader(
  members: Member[],
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<Member> {
  const running = () => members.filter((m) => m.process.isRunning());
  return waitFor(
    'one leader named by every running server',
    async () => {
      const views = await Promise.all(
        running().map(async (m) => {
          const res = await fetchText(`${m.url}/v1/status/leader`).catch(() => undefined);
          return res?.status === 200 ? (JSON.parse(res.text) as string) : '';
        }),
      );
      const [first] = views;
      if (!first || views.some((v) => v !== first)) return undefined;
      const host = first.slice(0, first.lastIndexOf(':'));
      return running().find((m) => m.host === host);
    },
    timeoutMs,
    50,
    alive,
  );
}

/** Right after an election a leader may still refuse writes for a moment (Consul establishes leadership). */
async function awaitWritable(member: Member): Promise<void> {
  await waitFor(
    `a first write through ${member.name}`,
    async () => {
      const res = await fetchText(`${member.url}/v1/kv/bench/ready`, { method: 'PUT', body: 'ready' });
      return res.status === 200 && res.text.trim() === 'true' ? true : undefined;
    },
    30_000,
  );
}

/** A dev agent is ready when it names a leader and /v1/agent/self answers 200. */
export async function awaitDevReady(member: Member, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${member.name} to be ready`,
    async () => {
      const leader = await fetchText(`${member.url}/v1/status/leader`, {}, 1000);
      if (leader.status !== 200 || JSON.parse(leader.text) === '') return undefined;
      const self = await fetchText(`${member.url}/v1/agent/self`, {}, 1000);
      return self.status === 200 ? true : undefined;
    },
    timeoutMs,
    10,
    () => member.process.isRunning(),
  );
}
