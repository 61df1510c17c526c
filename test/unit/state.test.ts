import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SingleNodeLog } from '../../src/state/applier.ts';
import { checkedInstances, listNodes, serviceInstances } from '../../src/state/catalog-read.ts';
import type { Command, KVOp, NodeInput, ServiceInput } from '../../src/state/commands.ts';
import { kvGet, kvKeys, kvList } from '../../src/state/kv-read.ts';
import { StateStore } from '../../src/state/store.ts';
import { WatchSet } from '../../src/state/watch.ts';
import { nodeInput, serviceInput } from '../helpers/state-fixtures.ts';

// The state machine on its own: Consul's KV, catalog and txn rules, atomicity, snapshots and watch precision.

const NOW = 1_700_000_000_000;
const bytes = (s: string) => new TextEncoder().encode(s);
const kvOp = (Verb: KVOp['Verb'], Key: string, extra: Partial<KVOp> = {}): KVOp => ({
  Verb,
  Key,
  Value: bytes('v'),
  Flags: 0,
  Index: 0,
  Session: '',
  ...extra,
});
const kv = (Verb: KVOp['Verb'], Key: string, extra: Partial<KVOp> = {}): Command => ({
  type: 'kv',
  now: NOW,
  op: kvOp(Verb, Key, extra),
});
const node = nodeInput;
const service = serviceInput;
const register = (n: NodeInput, s: ServiceInput | null = null): Command => ({
  type: 'register',
  now: NOW,
  node: n,
  service: s,
  checks: [],
  skipNodeUpdate: false,
});

function fresh() {
  const store = new StateStore();
  return { store, log: new SingleNodeLog(store) };
}

describe('KV rules', () => {
  test('cas=0 creates only when absent; cas=N writes only at ModifyIndex N', async () => {
    const { store, log } = fresh();
    assert.equal(await log.apply(kv('cas', 'k', { Index: 0 })), true);
    assert.equal(await log.apply(kv('cas', 'k', { Index: 0 })), false);
    const index = store.db.kvs.get('k')!.ModifyIndex;
    assert.equal(await log.apply(kv('cas', 'k', { Index: index + 7 })), false);
    assert.equal(await log.apply(kv('cas', 'k', { Index: index, Value: bytes('w') })), true);
    assert.deepEqual(store.db.kvs.get('k')!.Value, bytes('w'));
    assert.equal(store.db.kvs.get('k')!.CreateIndex, index, 'CreateIndex survives updates');
  });

  test('a plain set keeps the lock holder, as in Consul', async () => {
    const { store, log } = fresh();
    await log.apply(register(node('n1')));
    const id = await log.apply({
      type: 'session-create',
      now: NOW,
      session: {
        ID: 's',
        Name: '',
        Node: 'n1',
        LockDelay: 0,
        Behavior: 'release',
        TTL: '',
        NodeChecks: [],
        ServiceChecks: [],
        Checks: [],
      },
    });
    assert.equal(await log.apply(kv('lock', 'l', { Session: id })), true);
    await log.apply(kv('set', 'l', { Value: bytes('new') }));
    assert.equal(store.db.kvs.get('l')!.Session, 's');
    assert.equal(store.db.kvs.get('l')!.LockIndex, 1);
  });

  test('keys with a separator fold into directories', async () => {
    const { store, log } = fresh();
    for (const key of ['a/b/c', 'a/b/d', 'a/e', 'a/f/g', 'b']) await log.apply(kv('set', key));
    assert.deepEqual(kvKeys(store.db, new WatchSet(), 'a/', '/').value, ['a/b/', 'a/e', 'a/f/']);
    assert.deepEqual(kvKeys(store.db, new WatchSet(), '', '').value, ['a/b/c', 'a/b/d', 'a/e', 'a/f/g', 'b']);
  });

  test('a prefix index moves forward when its newest key is deleted (tombstones) and back after reaping', async () => {
    const { store, log } = fresh();
    await log.apply(kv('set', 'p/old'));
    await log.apply(kv('set', 'p/new'));
    await log.apply(kv('set', 'elsewhere'));
    const before = kvList(store.db, new WatchSet(), 'p/').index;
    await log.apply(kv('delete', 'p/new'));
    const afterDelete = kvList(store.db, new WatchSet(), 'p/').index;
    assert.ok(afterDelete > before);
    await log.apply({ type: 'tombstone-reap', now: NOW, reapIndex: store.lastIndex });
    assert.ok(
      kvList(store.db, new WatchSet(), 'p/').index < afterDelete,
      'the index may go backwards after a reap',
    );
  });
});

describe('catalog rules', () => {
  test('re-registering an unchanged service moves no index', async () => {
    const { store, log } = fresh();
    await log.apply(register(node('n1'), service('web')));
    const before = serviceInstances(store.db, new WatchSet(), 'web').index;
    await log.apply(register(node('n1'), service('web')));
    assert.equal(serviceInstances(store.db, new WatchSet(), 'web').index, before);
    assert.equal(listNodes(store.db, new WatchSet()).index, before);
  });

  test('a node check change moves the index of every service on that node', async () => {
    const { store, log } = fresh();
    await log.apply(register(node('n1'), service('web')));
    await log.apply(register(node('n1'), service('db')));
    const web = checkedInstances(store.db, new WatchSet(), 'web').index;
    await log.apply({
      ...register(node('n1')),
      checks: [
        {
          Node: 'n1',
          CheckID: 'disk',
          Name: 'disk',
          Status: 'critical',
          Notes: '',
          Output: '',
          ServiceID: '',
          Type: '',
          Definition: {},
        },
      ],
    } as Command);
    const after = checkedInstances(store.db, new WatchSet(), 'web');
    assert.ok(after.index > web);
    assert.equal(after.value[0]!.checks[0]!.CheckID, 'disk');
  });

  test("a service's checks follow its name and tags when it is re-registered", async () => {
    const { store, log } = fresh();
    const check = {
      Node: 'n1',
      CheckID: 'alive',
      Name: 'alive',
      Status: 'passing' as const,
      Notes: '',
      Output: '',
      ServiceID: 'web',
      Type: 'ttl',
      Definition: {},
    };
    await log.apply({ ...register(node('n1'), service('web', 'web', ['v1'])), checks: [check] } as Command);
    await log.apply(register(node('n1'), service('web', 'web', ['v2'])));
    const [entry] = checkedInstances(store.db, new WatchSet(), 'web').value;
    assert.deepEqual(entry!.checks[0]!.ServiceTags, ['v2']);
    assert.equal(entry!.checks[0]!.CreateIndex < entry!.checks[0]!.ModifyIndex, true);
  });

  test('a command that fails halfway leaves nothing behind', async () => {
    const { store, log } = fresh();
    const before = store.snapshot();
    const bad: Command = {
      ...register(node('n2'), service('api')),
      checks: [
        {
          Node: 'n2',
          CheckID: 'c',
          Name: 'c',
          Status: 'passing',
          Notes: '',
          Output: '',
          ServiceID: 'missing',
          Type: '',
          Definition: {},
        },
      ],
    } as Command;
    await assert.rejects(log.apply(bad), /Missing service registration/);
    const after = new StateStore();
    after.restore(store.snapshot());
    assert.equal(store.db.nodes.size, 0);
    assert.equal(store.db.services.size, 0);
    assert.deepEqual(restoreRows(after), restoreRows(fromSnapshot(before)));
  });
});

describe('txn', () => {
  test('a failing op rolls back the ops before it and reports every error with its index', async () => {
    const { store, log } = fresh();
    await log.apply(kv('set', 'existing'));
    const outcome = await log.apply({
      type: 'txn',
      now: NOW,
      ops: [
        { KV: kvOp('set', 'fresh') },
        { KV: kvOp('delete', 'existing') },
        { KV: kvOp('cas', 'existing', { Index: 999 }) },
        { KV: kvOp('get', 'nope') },
      ],
    });
    assert.equal(outcome.results, null);
    assert.deepEqual(
      outcome.errors?.map((e) => e.OpIndex),
      [2, 3],
    );
    assert.equal(store.db.kvs.get('fresh'), undefined);
    assert.ok(store.db.kvs.get('existing'));
    assert.equal(store.db.tombstones.size, 0, 'the delete left no tombstone');
  });

  const kvOps = fc.array(
    fc.record({
      verb: fc.constantFrom('set', 'delete', 'cas', 'delete-tree', 'delete-cas'),
      key: fc.constantFrom('a', 'a/b', 'a/c', 'b', 'b/x'),
      index: fc.nat(12),
    }),
    { maxLength: 12 },
  );
  const toOp = ({ verb, key, index }: { verb: string; key: string; index: number }) =>
    kvOp(verb as KVOp['Verb'], key, { Index: index });

  type GeneratedOp = { verb: string; key: string; index: number };
  const casAfterWrite = (op: GeneratedOp, i: number, ops: GeneratedOp[]) =>
    op.verb.endsWith('cas') &&
    ops.slice(0, i).some((w) => w.key === op.key || (w.verb === 'delete-tree' && op.key.startsWith(w.key)));

  test('property: a txn with a failing op changes nothing; one without applies like its ops one by one', async () => {
    await fc.assert(
      fc.asyncProperty(kvOps, kvOps, async (history, ops) => {
        const { store, log } = fresh();
        for (const op of history) await log.apply({ type: 'kv', now: NOW, op: toOp(op) });
        const before = store.snapshot();
        const failingTxn: Command = {
          type: 'txn',
          now: NOW,
          ops: [
            ...ops.map((o) => ({ KV: toOp(o) })),
            { KV: toOp({ verb: 'get', key: 'missing', index: 0 }) },
          ],
        };
        const failing = await log.apply(failingTxn);
        assert.ok(failing.errors && failing.errors.length > 0);
        assert.deepEqual(rowsOf(store), restoreRows(fromSnapshot(before)));

        // The same log on the other store, so Raft indexes (and so cas outcomes) line up.
        const sequential = fresh();
        for (const op of history) await sequential.log.apply({ type: 'kv', now: NOW, op: toOp(op) });
        await sequential.log.apply(failingTxn);
        const outcome = await log.apply({ type: 'txn', now: NOW, ops: ops.map((o) => ({ KV: toOp(o) })) });
        const results = await Promise.all(
          ops.map((o) => sequential.log.apply({ type: 'kv', now: NOW, op: toOp(o) })),
        );
        // A txn writes all its ops at one index, one by one they get one each: a cas on a key written
        // earlier in the same list compares against different indexes, so only the rest must agree.
        if (ops.some(casAfterWrite)) return;
        if (outcome.errors) {
          assert.ok(results.includes(false), 'the txn failed but every op succeeds one by one');
        } else {
          assert.ok(!results.includes(false));
          assert.deepEqual(valuesOf(store), valuesOf(sequential.store));
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('snapshots', () => {
  test('property: restore(snapshot(s)) holds the same rows and indexes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.constantFrom('n1', 'n2', 'n3'), fc.constantFrom('web', 'db', 'api'), fc.boolean()),
          { maxLength: 10 },
        ),
        fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.uint8Array({ maxLength: 8 })), { maxLength: 10 }),
        async (registrations, entries) => {
          const { store, log } = fresh();
          for (const [n, s, remove] of registrations) {
            await log.apply(register(node(n), service(s)));
            if (remove)
              await log.apply({ type: 'deregister', now: NOW, node: n, serviceId: s, checkId: null });
          }
          for (const [key, value] of entries)
            await log.apply(kv('set', key, { Value: value.length ? value : null }));
          const copy = fromSnapshot(store.snapshot());
          assert.deepEqual(restoreRows(copy), rowsOf(store));
          assert.equal(copy.lastIndex, store.lastIndex);
          assert.deepEqual([...copy.db.indexes.entries()].sort(), [...store.db.indexes.entries()].sort());
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('watches', () => {
  test('property: a waiter wakes exactly when a key it read or a key under its prefix is written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('x', 'x/y', 'z'),
        fc.constantFrom('x', 'x/', 'x/y', 'x/y/z', 'zz', 'w'),
        async (read, written) => {
          const { store, log } = fresh();
          const exact = new WatchSet();
          kvGet(store.db, exact, read);
          const prefix = new WatchSet();
          kvList(store.db, prefix, read);
          // Wakes happen synchronously inside apply, so aborting right after it tells woken from not woken.
          const done = new AbortController();
          const exactWoken = store.watches.wait(exact, 60_000, done.signal);
          const prefixWoken = store.watches.wait(prefix, 60_000, done.signal);
          await log.apply(kv('set', written));
          done.abort();
          assert.equal(await exactWoken, written === read);
          assert.equal(await prefixWoken, written.startsWith(read));
        },
      ),
      { numRuns: 60 },
    );
  });
});

function fromSnapshot(bytes: Uint8Array): StateStore {
  const store = new StateStore();
  store.restore(bytes);
  return store;
}

function rowsOf(store: StateStore) {
  const { db } = store;
  return {
    nodes: [...db.nodes.values()],
    services: [...db.services.values()],
    checks: [...db.checks.values()],
    kvs: [...db.kvs.values()],
    tombstones: [...db.tombstones.values()],
    sessions: [...db.sessions.values()],
  };
}
const restoreRows = rowsOf;

/** Keys and values only: indexes differ between two stores that applied different numbers of entries. */
function valuesOf(store: StateStore) {
  return [...store.db.kvs.values()].map((row) => [
    row.Key,
    row.Value && Buffer.from(row.Value).toString('hex'),
  ]);
}
