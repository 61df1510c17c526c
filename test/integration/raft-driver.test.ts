import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino, { type Logger } from 'pino';
import {
  RaftApplier,
  RaftClusterView,
  RaftReadGate,
  RaftServer,
  type RaftServerOptions,
} from '../../src/raft/index.ts';
import { SnapshotStore } from '../../src/raft/storage/snapshot-store.ts';
import { RpcPool } from '../../src/rpc/pool.ts';
import { RpcServer } from '../../src/rpc/server.ts';
import type { KVCommand } from '../../src/state/commands.ts';
import { StateError } from '../../src/state/errors.ts';
import { SnapshotError } from '../../src/state/snapshot.ts';
import { StateStore } from '../../src/state/store.ts';
import { eventually } from '../helpers/http.ts';

// Raft servers in one process, each with its own data dir, state store and RPC listener on its own
// 127.0.x.y address, talking over real sockets: elections, replication, forwarding, reads, failover,
// restarts, InstallSnapshot and membership changes.

const silent = pino({ level: 'silent' });
/** One /24 of loopback per run, so parallel test files never share an address. */
const NET = `127.0.${randomInt(2, 250)}`;
let lastHost = 0;

interface TestServer {
  id: string;
  address: string;
  store: StateStore;
  raft: RaftServer;
  applier: RaftApplier;
  gate: RaftReadGate;
  view: RaftClusterView;
  rpc: RpcServer;
  pool: RpcPool;
}

/** Servers on fixed addresses and data dirs under one temp folder, so each can be stopped and restarted. */
class Cluster {
  readonly root = mkdtempSync(join(tmpdir(), 'raft-driver-'));
  readonly servers = new Map<string, TestServer>();
  private readonly addresses = new Map<string, { host: string; port: number }>();

  constructor(
    private readonly options: Partial<RaftServerOptions> = {},
    private readonly holdTimeoutMs = 3000,
  ) {}

  async start(id: string, logger: Logger = silent.child({ server: id })): Promise<TestServer> {
    let place = this.addresses.get(id);
    if (!place) {
      place = { host: `${NET}.${++lastHost}`, port: 0 };
      this.addresses.set(id, place);
    }
    const rpc = new RpcServer({ host: place.host, port: place.port, logger: silent });
    const address = await rpc.listen();
    place.port = Number(address.split(':')[1]);
    const pool = new RpcPool({ logger: silent, backoff: { minMs: 10, maxMs: 100 } });
    const store = new StateStore();
    const raft = new RaftServer({
      id,
      address,
      dataDir: join(this.root, id),
      store,
      rpcServer: rpc,
      pool,
      logger,
      ...this.options,
    });
    await raft.start();
    const forwarding = { holdTimeoutMs: this.holdTimeoutMs, forwardTimeoutMs: 5000 };
    const server: TestServer = {
      id,
      address,
      store,
      raft,
      rpc,
      pool,
      applier: new RaftApplier(raft, forwarding),
      gate: new RaftReadGate(raft, forwarding),
      view: new RaftClusterView(raft, forwarding),
    };
    this.servers.set(id, server);
    return server;
  }

  /** Starts servers and bootstraps them as the voters of a new cluster. */
  async form(ids: string[]): Promise<TestServer[]> {
    const servers = await Promise.all(ids.map((id) => this.start(id)));
    const members = servers.map((s) => ({ id: s.id, address: s.address, voter: true }));
    for (const server of servers) assert.equal(await server.raft.bootstrap(members), true);
    return servers;
  }

  async stop(id: string): Promise<void> {
    const server = this.servers.get(id);
    if (!server) return;
    this.servers.delete(id);
    await server.raft.stop();
    server.pool.close();
    await server.rpc.close();
  }

  get(id: string): TestServer {
    const server = this.servers.get(id);
    if (!server) throw new Error(`${id} is not running`);
    return server;
  }

  /** The leader that every running server (or those in `among`) agrees on. */
  leader(among: TestServer[] = [...this.servers.values()]): Promise<TestServer> {
    return eventually('a leader every server knows', async () => {
      const leaders = among.filter((s) => s.raft.isLeader);
      if (leaders.length !== 1) return undefined;
      const [leader] = leaders;
      return among.every((s) => s.raft.leader()?.id === leader!.id) ? leader : undefined;
    });
  }

  followers(leader: TestServer): TestServer[] {
    return [...this.servers.values()].filter((s) => s !== leader);
  }

  /** Waits until every running server has applied as far as the leader has committed. */
  async converged(): Promise<void> {
    const leader = await this.leader();
    const commit = leader.raft.status().commitIndex;
    await eventually('every server applied the commit index', async () =>
      [...this.servers.values()].every((s) => s.raft.status().appliedIndex >= commit) ? true : undefined,
    );
  }

  async close(): Promise<void> {
    for (const id of [...this.servers.keys()]) await this.stop(id);
    rmSync(this.root, { recursive: true, force: true });
  }
}

const text = new TextEncoder();
const fromText = new TextDecoder();

function kvSet(key: string, value: string): KVCommand {
  return {
    type: 'kv',
    now: Date.now(),
    op: { Verb: 'set', Key: key, Value: text.encode(value), Flags: 0, Index: 0, Session: '' },
  };
}

/**
 * Sets a key, again if the leader stepped down meanwhile (a slow disk can delay heartbeats past the election
 * timeout): the write's fate was unknown, and setting a key twice is harmless.
 */
async function put(server: TestServer, key: string, value: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      assert.equal(await server.applier.apply(kvSet(key, value)), true);
      return;
    } catch (err) {
      if (
        attempt === 5 ||
        !(err instanceof Error) ||
        err.message !== 'leadership lost while committing log'
      ) {
        throw err;
      }
    }
  }
}

function kvValue(server: TestServer, key: string): string | undefined {
  const row = server.store.db.kvs.get(key);
  return row?.Value ? fromText.decode(row.Value) : undefined;
}

/** The whole state, with the index of every row: equal only if the same commands applied in the same order. */
const stateOf = (server: TestServer) => Buffer.from(server.store.snapshot());

/** A logger whose messages a test can look for. */
function recordingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line) messages.push((JSON.parse(line) as { msg: string }).msg);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), messages };
}

describe('raft driver: three servers', () => {
  const cluster = new Cluster();
  before(() => cluster.form(['s1', 's2', 's3']));
  after(() => cluster.close());

  test('elect one leader that every server knows, and refuse a second bootstrap', async () => {
    const leader = await cluster.leader();
    const { term } = leader.raft.status();
    for (const server of cluster.servers.values()) {
      const status = server.raft.status();
      assert.equal(status.term, term);
      assert.deepEqual(status.leader, { id: leader.id, address: leader.address });
      assert.equal(status.members.length, 3);
      assert.equal(server.view.leaderAddress(), leader.address);
      assert.deepEqual(
        server.view.peerAddresses().sort(),
        [...cluster.servers.values()].map((s) => s.address).sort(),
      );
      assert.equal(await server.raft.bootstrap(status.members), false);
    }
  });

  test('writes through every server apply on all three in the same order', async () => {
    await Promise.all(
      [...cluster.servers.values()].flatMap((server) =>
        Array.from({ length: 20 }, (_, i) => put(server, `order/${i % 5}`, `${server.id}-${i}`)),
      ),
    );
    await cluster.converged();
    const [first, ...rest] = [...cluster.servers.values()];
    for (const server of rest) assert.ok(stateOf(server).equals(stateOf(first!)), `${server.id} diverged`);
  });

  test('a follower forwards writes to the leader and gets the FSM result, or its refusal as a StateError', async () => {
    const leader = await cluster.leader();
    const [follower] = cluster.followers(leader);
    assert.equal(await follower!.applier.apply(kvSet('forwarded', 'yes')), true);
    assert.equal(kvValue(leader, 'forwarded'), 'yes', 'acknowledged only once applied on the leader');
    const cas = kvSet('forwarded', 'no');
    cas.op.Verb = 'cas';
    cas.op.Index = 1;
    assert.equal(await follower!.applier.apply(cas), false);
    const lock = kvSet('locked', 'x');
    lock.op.Verb = 'lock';
    lock.op.Session = 'no-such-session';
    await assert.rejects(
      follower!.applier.apply(lock),
      (err) => err instanceof StateError && err.message === 'invalid session "no-such-session"',
    );
  });

  test('a consistent or default read on a follower sees a write acknowledged just before', async () => {
    const leader = await cluster.leader();
    for (const follower of cluster.followers(leader)) {
      for (const mode of ['consistent', 'default'] as const) {
        const value = `${follower.id}-${mode}`;
        await put(cluster.followers(follower)[0]!, 'read-your-write', value);
        const contact = await follower.gate.prepare(mode);
        assert.equal(kvValue(follower, 'read-your-write'), value);
        assert.equal(contact.knownLeader, true);
      }
      const stale = await follower.gate.prepare('stale');
      assert.equal(stale.knownLeader, true);
      assert.ok(stale.lastContactMs < 1000, `last contact ${stale.lastContactMs} ms ago`);
    }
    assert.deepEqual(await leader.gate.prepare('consistent'), { knownLeader: true, lastContactMs: 0 });
  });

  test('the configuration as the leader sees it, from any server; leadership moves on request', async () => {
    const leader = await cluster.leader();
    const [follower, other] = cluster.followers(leader);
    const configuration = await follower!.view.configuration(false);
    const leaderIndex = leader.raft.status().lastIndex;
    assert.equal(configuration.servers.length, 3);
    for (const server of configuration.servers) {
      assert.equal(server.leader, server.id === leader.id);
      assert.equal(server.voter, true);
      assert.equal(server.address, cluster.get(server.id).address);
      assert.ok(server.lastIndex > 0 && server.lastIndex <= leaderIndex);
      assert.equal(server.lastTerm, leader.raft.status().term);
    }
    await follower!.view.transferLeadership(other!.id);
    assert.equal((await cluster.leader()).id, other!.id);
    await assert.rejects(other!.view.transferLeadership('nobody'), { message: 'cannot find peer' });
  });

  test('stopping the leader: another is elected, writes continue and no acknowledged write is lost', async () => {
    const leader = await cluster.leader();
    const [writer, survivor] = cluster.followers(leader);
    const acknowledged: string[] = [];
    let failed = 0;
    let stopped = false;
    const writing = (async () => {
      for (let i = 0; (acknowledged.length < 60 || !stopped) && i < 500; i++) {
        const key = `failover/${i}`;
        try {
          await writer!.applier.apply(kvSet(key, 'v'));
          acknowledged.push(key);
        } catch {
          failed++;
        }
        if (!stopped && acknowledged.length >= 30) {
          stopped = true;
          void cluster.stop(leader.id);
        }
      }
    })();
    await writing;
    assert.ok(acknowledged.length >= 60, `${acknowledged.length} writes acknowledged, ${failed} failed`);
    const next = await cluster.leader([writer!, survivor!]);
    assert.notEqual(next.id, leader.id);
    await cluster.converged();
    for (const server of [writer!, survivor!]) {
      const missing = acknowledged.filter((key) => kvValue(server, key) === undefined);
      assert.deepEqual(missing, [], `${server.id} lost acknowledged writes`);
    }
    await cluster.start(leader.id);
    await cluster.converged();
    assert.ok(stateOf(cluster.get(leader.id)).equals(stateOf(next)), 'the old leader caught up');
  });

  test('a restore through a follower replaces the state on every server at the same index', async () => {
    const leader = await cluster.leader();
    await put(leader, 'restore/kept', 'yes');
    await cluster.converged();
    const saved = leader.store.snapshot();
    await put(leader, 'restore/dropped', 'yes');
    const [follower] = cluster.followers(leader);
    await follower!.applier.restore(saved);
    await cluster.converged();
    for (const server of cluster.servers.values()) {
      assert.equal(kvValue(server, 'restore/kept'), 'yes');
      assert.equal(kvValue(server, 'restore/dropped'), undefined);
      assert.ok(stateOf(server).equals(stateOf(leader)));
    }
    await assert.rejects(follower!.applier.restore(new Uint8Array([1, 2, 3])), SnapshotError);
  });

  test('a restart of every server from its data dir keeps every acknowledged write', async () => {
    const before = await cluster.leader();
    const keys = Array.from({ length: 30 }, (_, i) => `restart/${i}`);
    for (const key of keys) await put(before, key, key);
    const ids = [...cluster.servers.keys()];
    for (const id of ids) await cluster.stop(id);
    const restarted = await Promise.all(ids.map((id) => cluster.start(id)));
    for (const server of restarted) assert.equal(await server.raft.bootstrap(server.raft.members()), false);
    await cluster.leader();
    await cluster.converged();
    for (const server of restarted) {
      assert.deepEqual(
        keys.filter((key) => kvValue(server, key) !== key),
        [],
        `${server.id} lost writes`,
      );
      assert.equal(kvValue(server, 'forwarded'), 'yes');
    }
    await put(restarted[0]!, 'after-restart', 'ok');
    await cluster.converged();
    assert.ok(restarted.every((s) => kvValue(s, 'after-restart') === 'ok'));
  });
});

describe('raft driver: snapshots', () => {
  const cluster = new Cluster({ snapshotThreshold: 40, trailingLogs: 10 });
  before(() => cluster.form(['a1', 'a2', 'a3']));
  after(() => cluster.close());

  test('a server stopped while the others wrote past the snapshot threshold catches up by InstallSnapshot', async () => {
    const leader = await cluster.leader();
    const [lagging] = cluster.followers(leader);
    await put(leader, 'before', 'stop');
    await cluster.converged();
    const laggingLast = lagging!.raft.status().lastIndex;
    await cluster.stop(lagging!.id);

    for (let i = 0; i < 150; i++) await put(leader, `snap/${i % 30}`, String(i));
    // Whichever of the two leads now, its log no longer holds what the stopped server needs next.
    const compacted = await eventually('the running servers compacted past the stopped one', async () => {
      const indexes = [...cluster.servers.values()].map((s) => s.raft.status().snapshotIndex);
      return indexes.every((index) => index - 10 > laggingLast) ? Math.min(...indexes) : undefined;
    });

    const { logger, messages } = recordingLogger();
    const back = await cluster.start(lagging!.id, logger);
    await cluster.converged();
    assert.ok(messages.includes('raft: installed a snapshot from the leader'), messages.join('\n'));
    assert.ok(back.raft.status().snapshotIndex >= compacted);
    assert.ok(stateOf(back).equals(stateOf(leader)), 'the caught-up state matches the leader');
    assert.equal(kvValue(back, 'snap/29'), '149');

    // It now follows the log again, and its own snapshot survives a restart.
    await put(leader, 'after', 'snapshot');
    await cluster.converged();
    await cluster.stop(back.id);
    const again = await cluster.start(back.id);
    await cluster.converged();
    assert.equal(kvValue(again, 'after'), 'snapshot');
    assert.ok(stateOf(again).equals(stateOf(leader)));
  });
});

describe('raft driver: membership', () => {
  const cluster = new Cluster();
  before(() => cluster.form(['m1', 'm2', 'm3']));
  after(() => cluster.close());

  test('a fourth voter is added and catches up; a server is removed through a follower', async () => {
    const leader = await cluster.leader();
    await put(leader, 'early', 'write');
    const fourth = await cluster.start('m4');
    assert.equal(fourth.raft.leader(), null, 'a new server knows no cluster');
    await leader.raft.addVoter('m4', fourth.address);
    await cluster.converged();
    assert.equal(kvValue(fourth, 'early'), 'write');
    const voters = (await fourth.view.configuration(false)).servers.filter((s) => s.voter).map((s) => s.id);
    assert.deepEqual(voters.sort(), ['m1', 'm2', 'm3', 'm4']);
    await put(fourth, 'from-m4', 'ok');

    const victim = cluster.followers(leader).find((s) => s.id !== 'm4')!;
    await fourth.view.removePeer({ id: victim.id });
    await eventually('every remaining server dropped the removed one', async () =>
      cluster
        .followers(victim)
        .every((s) => s.raft.members().length === 3 && !s.raft.members().some((m) => m.id === victim.id))
        ? true
        : undefined,
    );
    await cluster.stop(victim.id);
    await put(fourth, 'after-removal', 'ok');
    await assert.rejects(fourth.view.removePeer({ address: victim.address }), {
      message: `address "${victim.address}" was not found in the Raft configuration`,
    });
  });

  test('a non-voter receives the log and becomes a voter when promoted', async () => {
    const leader = await cluster.leader();
    const learner = await cluster.start('m5');
    await leader.raft.addNonVoter('m5', learner.address);
    await cluster.converged();
    assert.equal(kvValue(learner, 'after-removal'), 'ok');
    const entry = () => leader.raft.members().find((m) => m.id === 'm5');
    assert.equal(entry()?.voter, false);
    assert.equal(leader.view.peerAddresses().includes(learner.address), false);
    await leader.raft.promote('m5');
    assert.equal(entry()?.voter, true);
    await assert.rejects(leader.raft.promote('m5'), { message: 'm5 is not a non-voter' });
    const [follower] = cluster.followers(leader);
    await assert.rejects(follower!.raft.addVoter('m6', '127.0.0.1:1'), { message: 'node is not the leader' });
  });
});

describe('raft driver: a removed server added back', () => {
  const cluster = new Cluster();
  before(() => cluster.form(['r1', 'r2', 'r3']));
  after(() => cluster.close());

  test('a running server removed and added back as a non-voter, twice, while writes go on', async () => {
    const leader = await cluster.leader();
    const [returning] = cluster.followers(leader);
    for (let round = 0; round < 2; round++) {
      await leader.raft.remove(returning!.id);
      await put(leader, `removed-${round}`, 'x');
      await leader.raft.addNonVoter(returning!.id, returning!.address);
      await put(leader, `added-${round}`, 'x');
      await eventually('the returning server has the writes', async () =>
        kvValue(returning!, `added-${round}`) === 'x' ? true : undefined,
      );
    }
    await leader.raft.promote(returning!.id);
    await put(leader, 'promoted', 'x');
    await cluster.converged();
  });
});

describe('raft driver: without a quorum', () => {
  const cluster = new Cluster({}, 300);
  before(() => cluster.form(['q1', 'q2', 'q3']));
  after(() => cluster.close());

  test('with one server of three up, writes and consistent reads fail with "No cluster leader"', async () => {
    await cluster.leader();
    await cluster.stop('q1');
    await cluster.stop('q2');
    const alone = cluster.get('q3');
    await eventually('the last server knows no leader', async () =>
      alone.raft.leader() === null ? true : undefined,
    );
    await assert.rejects(alone.applier.apply(kvSet('k', 'v')), (err) => {
      assert.ok(err instanceof Error);
      assert.equal(err.message, 'No cluster leader');
      return true;
    });
    await assert.rejects(alone.gate.prepare('consistent'), { message: 'No cluster leader' });
    await assert.rejects(alone.view.configuration(false), { message: 'No cluster leader' });
    assert.equal((await alone.gate.prepare('stale')).knownLeader, false);
    assert.equal((await alone.view.configuration(true)).servers.length, 3);
    assert.equal(alone.view.leaderAddress(), '');
  });
});

describe('raft driver: recovery', () => {
  const cluster = new Cluster();
  after(() => cluster.close());

  test('a snapshot stored before the log moved onto it (a crash in between) replaces the log on start', async () => {
    const [solo] = await cluster.form(['r1']);
    await cluster.leader();
    await put(solo!, 'mine', 'old');
    const members = solo!.raft.members();
    await cluster.stop('r1');

    // What a leader would have streamed: a later state, at an index and term this log never reached.
    const donor = new StateStore();
    donor.apply(40, kvSet('theirs', 'new'));
    const dir = join(cluster.root, 'r1', 'raft');
    const snapshots = await SnapshotStore.open(dir);
    const writer = await snapshots.create({ index: 50, term: 7, membership: members });
    await writer.write(donor.snapshot());
    await writer.commit();

    const back = await cluster.start('r1');
    const status = back.raft.status();
    assert.deepEqual([status.lastIndex, status.appliedIndex, status.snapshotIndex], [50, 50, 50]);
    assert.equal(kvValue(back, 'theirs'), 'new');
    assert.equal(kvValue(back, 'mine'), undefined);
    await cluster.leader();
    await put(back, 'after', 'recovery');
    assert.ok(back.raft.status().lastIndex > 50);
  });
});

describe('raft driver: a single server', () => {
  const cluster = new Cluster();
  after(() => cluster.close());

  test('bootstraps alone, leads, and keeps its writes across a restart', async () => {
    const [solo] = await cluster.form(['solo']);
    await cluster.leader();
    for (let i = 0; i < 10; i++) await put(solo!, `solo/${i}`, String(i));
    await cluster.stop('solo');
    const again = await cluster.start('solo');
    await cluster.leader();
    assert.equal(kvValue(again, 'solo/9'), '9');
    await put(again, 'solo/after', 'x');
  });
});
