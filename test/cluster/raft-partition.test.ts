import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import {
  awaitLeader,
  type ClusterServer,
  destroyCluster,
  readPrefix,
  startCluster,
} from '../helpers/cluster.ts';
import { api, eventually } from '../helpers/http.ts';
import { NetLab, netlabUnavailable } from '../helpers/netlab.ts';
import type { HistoryEntry } from '../sim/history.ts';
import { checkKvHistory } from '../sim/linearizability.ts';

// Three servers, each in its own network namespace. The leader is cut off from the other two with iptables
// while clients on every server keep reading and writing: the minority refuses writes and non-stale reads,
// the majority elects a leader and serves, and after healing all servers converge. The clients' history
// must pass the linearizability checker.
//
// The partition lasts until autopilot has removed the old leader as dead (30 s), so healing also covers
// its return: it asks to be added back, with a log that diverged, and every heartbeat the new leader sent
// it meanwhile arrives at once (that flood once stalled the leader).

const unavailable = netlabUnavailable();
if (unavailable && process.env.TRIBUNE_REQUIRE_PEERS === '1') {
  throw new Error(`required test environment missing: ${unavailable}`);
}

const KEYS = ['p0', 'p1', 'p2'];

class Workload {
  readonly history: HistoryEntry[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(servers: ClusterServer[]) {
    this.loops = servers.map((server, client) => this.loop(server, client));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(server: ClusterServer, client: number): Promise<void> {
    for (let seq = 0; this.running; seq++) {
      const key = KEYS[Math.floor(Math.random() * KEYS.length)]!;
      if (Math.random() < 0.5) await this.put(server, client, key, `c${client}-${seq}`);
      else await this.get(server, client, key, Math.random() < 0.5 ? '?consistent' : '');
    }
  }

  private async put(server: ClusterServer, client: number, key: string, value: string): Promise<void> {
    const invoke = performance.now();
    const res = await request(server, 'PUT', `/v1/kv/${key}`, value);
    const complete = performance.now();
    // "No cluster leader" is answered before anything was proposed: the write certainly did not happen.
    if (res?.status === 500 && res.text === 'No cluster leader') return;
    const acknowledged = res?.status === 200 && res.text === 'true';
    this.history.push({
      client,
      key,
      op: { kind: 'put', value },
      invoke,
      complete: acknowledged ? complete : null,
    });
  }

  private async get(server: ClusterServer, client: number, key: string, query: string): Promise<void> {
    const invoke = performance.now();
    const res = await request(server, 'GET', `/v1/kv/${key}${query}`);
    const complete = performance.now();
    if (res?.status === 404)
      this.history.push({ client, key, op: { kind: 'get', result: null }, invoke, complete });
    if (res?.status !== 200) return;
    const [row] = JSON.parse(res.text) as { Value: string }[];
    const result = Buffer.from(row!.Value, 'base64').toString();
    this.history.push({ client, key, op: { kind: 'get', result }, invoke, complete });
  }
}

async function request(server: ClusterServer, method: string, path: string, body?: string) {
  try {
    const res = await fetch(`http://${server.httpAddr}${path}`, {
      method,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

describe('a partition of the leader from the majority', { skip: unavailable || undefined }, () => {
  const lab = new NetLab(3);
  let servers: ClusterServer[] = [];
  before(() => lab.create());
  after(async () => {
    await destroyCluster(servers);
    lab.destroy();
  });

  test('minority refuses, majority serves, all converge, and the history is linearizable', async (t) => {
    servers = await startCluster(lab.hosts, [], (host) => lab.launcher(host));
    const oldLeader = await awaitLeader(servers);
    const majority = servers.filter((s) => s !== oldLeader);
    const workload = new Workload(servers);
    await eventually('some history before the partition', async () =>
      workload.history.length > 30 ? true : undefined,
    );

    const partitionedAt = performance.now();
    lab.isolate(
      oldLeader.host,
      majority.map((s) => s.host),
    );
    const newLeader = await awaitLeader(majority);
    assert.notEqual(newLeader.host, oldLeader.host);
    await eventually('the old leader refuses writes', async () => {
      const res = await api(oldLeader.httpAddr, 'PUT', '/v1/kv/minority', 'x');
      assert.notEqual(res.status, 200, 'the minority acknowledged a write');
      return res.text === 'No cluster leader' ? true : undefined;
    });
    const nonStale = await api(oldLeader.httpAddr, 'GET', '/v1/kv/p0');
    assert.equal(nonStale.status, 500);
    assert.equal(nonStale.text, 'No cluster leader');
    const stale = await api(oldLeader.httpAddr, 'GET', '/v1/kv/p0?stale');
    assert.ok(stale.status === 200 || stale.status === 404, stale.text);
    assert.equal(stale.headers.get('x-consul-knownleader'), 'false');
    const majorityWrite = await api(newLeader.httpAddr, 'PUT', '/v1/kv/majority', 'y');
    assert.equal(majorityWrite.text, 'true');
    await eventually(
      'autopilot removes the cut-off server',
      async () => {
        const res = await api(newLeader.httpAddr, 'GET', '/v1/operator/raft/configuration?stale');
        const { Servers } = res.json<{ Servers: { Address: string }[] }>();
        return Servers.some((s) => s.Address === oldLeader.rpcAddress) ? undefined : true;
      },
      60_000,
    );

    lab.heal();
    t.diagnostic(`partitioned for ${Math.round(performance.now() - partitionedAt)} ms`);
    await awaitLeader(servers);
    const settled = workload.history.length;
    // Generous: a loaded CI machine runs this beside other suites.
    await eventually(
      'more history after healing',
      async () => (workload.history.length > settled + 30 ? true : undefined),
      30_000,
    );
    await workload.stop();

    await eventually(
      'every server holds the same state at the same index',
      async () => {
        const views = await Promise.all(
          servers.map(async (s) => {
            const kv = await readPrefix(s, '', '&stale');
            const self = await api(s.httpAddr, 'GET', '/v1/agent/self');
            const applied = self.json<{ Stats: { raft: { applied_index: string } } }>().Stats.raft
              .applied_index;
            return JSON.stringify({ kv: [...(kv ?? [])], applied });
          }),
        );
        return views.every((v) => v === views[0]) ? true : undefined;
      },
      20_000,
    );
    const writes = workload.history.filter((h) => h.op.kind === 'put');
    t.diagnostic(
      `history: ${workload.history.length} operations, ${writes.filter((h) => h.complete !== null).length} acknowledged writes, ${writes.filter((h) => h.complete === null).length} of unknown outcome`,
    );
    const result = checkKvHistory(workload.history);
    assert.ok(result.ok, result.ok ? '' : `${result.reason}: ${result.detail}`);
    assert.ok(workload.history.some((h) => h.op.kind === 'put' && h.complete !== null));
  });
});
