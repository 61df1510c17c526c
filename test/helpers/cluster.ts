import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevAgent, startAgent } from './dev-agent.ts';
import { api, eventually } from './http.ts';

// Real server processes on distinct 127.x.y.z addresses (so each can use Consul's fixed ports), with data
// directories that outlive a kill -9 so a server can be restarted on what it had made durable.

export interface ClusterServer {
  readonly host: string;
  readonly dataDir: string;
  /** The running process, if any. */
  agent: DevAgent | undefined;
  readonly httpAddr: string;
  readonly rpcAddress: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  bootstrapExpect?: number;
  retryJoin?: string[];
  extraArgs?: string[];
  /** A command prefix for the process, such as `ip netns exec <ns>`. */
  launcher?: string[];
  /** A client agent rather than a server. */
  client?: boolean;
}

/** Distinct loopback hosts in one random /24, so a test's servers never collide with another file's. */
export function loopbackHosts(count: number): string[] {
  const octet = () => 1 + Math.floor(Math.random() * 250);
  const prefix = `127.${octet()}.${octet()}`;
  const first = 1 + Math.floor(Math.random() * (250 - count));
  return Array.from({ length: count }, (_, i) => `${prefix}.${first + i}`);
}

export function clusterServer(host: string, options: ServerOptions): ClusterServer {
  const dataDir = mkdtempSync(join(tmpdir(), 'tribune-server-'));
  const args = [
    ...(options.client ? [] : ['-server']),
    '-data-dir',
    dataDir,
    ...(options.bootstrapExpect ? ['-bootstrap-expect', String(options.bootstrapExpect)] : []),
    ...(options.retryJoin ?? []).flatMap((address) => ['-retry-join', address]),
    ...(options.extraArgs ?? []),
  ];
  const server: ClusterServer = {
    host,
    dataDir,
    agent: undefined,
    rpcAddress: `${host}:8300`,
    get httpAddr() {
      if (!server.agent) throw new Error(`server ${host} is not running`);
      return server.agent.httpAddr;
    },
    async start() {
      server.agent = await startAgent(host, args, options.launcher);
    },
    async kill() {
      await server.agent?.kill();
      server.agent = undefined;
    },
    async stop() {
      await server.agent?.stop();
      server.agent = undefined;
    },
  };
  return server;
}

/** Servers on `hosts` that find each other by -retry-join and bootstrap together with -bootstrap-expect. */
export async function startCluster(
  hosts: string[],
  extraArgs: string[] = [],
  launcherFor: (host: string) => string[] = () => [],
): Promise<ClusterServer[]> {
  const servers = hosts.map((host) =>
    clusterServer(host, {
      bootstrapExpect: hosts.length,
      retryJoin: hosts.filter((h) => h !== host),
      extraArgs,
      launcher: launcherFor(host),
    }),
  );
  await Promise.all(servers.map((s) => s.start()));
  return servers;
}

export async function destroyCluster(servers: ClusterServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.kill()));
  for (const server of servers) rmSync(server.dataDir, { recursive: true, force: true });
}

/** Waits until every running server names the same leader, one of them, and returns that leader's server. */
export async function awaitLeader(servers: ClusterServer[], timeoutMs = 30_000): Promise<ClusterServer> {
  const running = servers.filter((s) => s.agent);
  return eventually(
    'one running leader that every running server knows',
    async () => {
      const views = await Promise.all(
        running.map(async (s) => {
          const res = await api(s.httpAddr, 'GET', '/v1/status/leader').catch(() => undefined);
          return res?.status === 200 ? res.json<string>() : '';
        }),
      );
      const [first] = views;
      if (!first || views.some((v) => v !== first)) return undefined;
      // Right after a kill the others still name the dead leader until their election timeout.
      return running.find((s) => s.rpcAddress === first);
    },
    timeoutMs,
  );
}

/** PUT a key through `server`; true once the cluster acknowledged the write. */
export async function putKey(server: ClusterServer, key: string, value: string): Promise<boolean> {
  try {
    const res = await api(server.httpAddr, 'PUT', `/v1/kv/${key}`, value);
    return res.status === 200 && res.text === 'true';
  } catch {
    return false;
  }
}

/** Every key under `prefix` with its value, as `server` answers with the given consistency query. */
export async function readPrefix(
  server: ClusterServer,
  prefix: string,
  consistency = '',
): Promise<Map<string, string> | undefined> {
  const res = await api(server.httpAddr, 'GET', `/v1/kv/${prefix}?recurse${consistency}`).catch(
    () => undefined,
  );
  if (res?.status === 404) return new Map();
  if (res?.status !== 200) return undefined;
  const rows = res.json<{ Key: string; Value: string | null }[]>();
  return new Map(rows.map((r) => [r.Key, Buffer.from(r.Value ?? '', 'base64').toString()]));
}

/** The keys of `expected` that `actual` lacks or holds with another value. */
export function missingWrites(expected: Map<string, string>, actual: Map<string, string>): string[] {
  return [...expected].filter(([key, value]) => actual.get(key) !== value).map(([key]) => key);
}

/** Waits until `server`'s own (stale) state holds every key of `expected` under `prefix` with its value. */
export async function awaitHolds(
  server: ClusterServer,
  prefix: string,
  expected: Map<string, string>,
  timeoutMs = 30_000,
): Promise<void> {
  await eventually(
    `${server.host} holding every acknowledged write under ${prefix}`,
    async () => {
      const stored = await readPrefix(server, prefix, '&stale');
      return stored && missingWrites(expected, stored).length === 0 ? true : undefined;
    },
    timeoutMs,
  );
}
