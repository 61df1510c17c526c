import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  answered,
  assertConsulError,
  assertFields,
  assertJsonType,
  assertQueryMeta,
  type Harness,
  openHarness,
  wireBody,
} from './helpers.ts';

// /v1/session through node-consul's session.* against a real dev agent, plus the KV locks sessions hold.

interface SessionInfo {
  ID: string;
  Name: string;
  Node: string;
  LockDelay: number;
  Behavior: string;
  TTL: string;
  NodeChecks: string[];
  CreateIndex: number;
  ModifyIndex: number;
}

interface KvItem {
  Key: string;
  LockIndex: number;
  Session?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECOND_NS = 1_000_000_000;

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(() => h?.close());

const create = async (options: Parameters<Harness['consul']['session']['create']>[0] = {}) =>
  (await h.consul.session.create(options)).ID;
const info = (id: string) => h.consul.session.info(id) as Promise<SessionInfo | undefined>;
/** kv.set answers JSON true/false; `false` is read off the wire (see wireBody). */
const lock = (key: string, options: { acquire?: string; release?: string }) =>
  wireBody<boolean>((o) => h.consul.kv.set({ key, value: 'held', ...options, ...o }));

describe('sessions via node-consul', () => {
  test('create with defaults: the agent node, serfHealth, a 15 s lock delay and release', async () => {
    const { res, body } = await answered<{ ID: string }>((o) => h.consul.session.create({ ...o }));
    assertJsonType(res);
    assert.deepEqual(Object.keys(body!), ['ID']);
    assert.match(body!.ID, UUID);

    const read = await answered<SessionInfo>((o) => h.consul.session.info({ id: body!.ID, ...o }));
    assertQueryMeta(read.res);
    const session = read.body!;
    assertFields(session, {
      ID: 'string',
      Name: 'string',
      Node: 'string',
      LockDelay: 'number',
      Behavior: 'string',
      TTL: 'string',
      NodeChecks: 'array',
      CreateIndex: 'number',
      ModifyIndex: 'number',
    });
    assert.equal(session.ID, body!.ID);
    assert.equal(session.Name, '');
    assert.equal(session.Node, h.node);
    assert.equal(session.LockDelay, 15 * SECOND_NS, 'LockDelay is in nanoseconds');
    assert.equal(session.Behavior, 'release');
    assert.equal(session.TTL, '');
    assert.deepEqual(session.NodeChecks, ['serfHealth']);
  });

  test('create with a name, TTL, lock delay and delete behavior', async () => {
    const id = await create({ name: 'leader-election', ttl: '15s', lockdelay: '5s', behavior: 'delete' });
    const session = (await info(id))!;
    assert.equal(session.Name, 'leader-election');
    assert.equal(session.TTL, '15s');
    assert.equal(session.LockDelay, 5 * SECOND_NS);
    assert.equal(session.Behavior, 'delete');
  });

  test('a TTL outside [10s, 24h] is refused with the text clients parse', async () => {
    await assertConsulError(
      h.consul.session.create({ ttl: '5s' }),
      500,
      "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]",
    );
  });

  test('node and list return every session, with the query meta', async () => {
    const a = await create({ name: 'a' });
    const b = await create({ name: 'b' });
    const byNode = await answered<SessionInfo[]>((o) => h.consul.session.node({ node: h.node, ...o }));
    assertQueryMeta(byNode.res);
    const nodeIds = byNode.body!.map((s) => s.ID);
    assert.ok(nodeIds.includes(a) && nodeIds.includes(b));

    const all = await answered<SessionInfo[]>((o) => h.consul.session.list({ ...o }));
    assertQueryMeta(all.res);
    const listIds = all.body!.map((s) => s.ID);
    assert.ok(listIds.includes(a) && listIds.includes(b));
    for (const session of all.body!) assert.equal(session.Node, h.node);

    assert.deepEqual(await h.consul.session.node('no-such-node'), [], 'no sessions: [] (not null)');
  });

  test('renew answers the session in a list; an unknown session is a 404', async () => {
    const id = await create({ ttl: '20s' });
    const renewed = (await h.consul.session.renew(id)) as SessionInfo[];
    assert.ok(Array.isArray(renewed));
    assert.equal(renewed.length, 1);
    assert.equal(renewed[0]!.ID, id);
    assert.equal(renewed[0]!.TTL, '20s');

    const unknown = '00000000-0000-4000-8000-000000000000';
    await assertConsulError(h.consul.session.renew(unknown), 404, `Session id '${unknown}' not found`);
  });

  test('destroy answers true, is idempotent, and info then answers []', async () => {
    const id = await create();
    const { res } = await answered((o) => h.consul.session.destroy({ id, ...o }));
    assert.equal(res.body, true);
    assert.equal(await info(id), undefined);
    const wire = await answered((o) => h.consul.session.info({ id, ...o }));
    assert.deepEqual(wire.res.body, [], 'an unknown session is [] (not 404)');
    assertQueryMeta(wire.res);
    const again = await answered((o) => h.consul.session.destroy({ id, ...o }));
    assert.equal(again.res.body, true);
  });
});

describe('locks via node-consul', () => {
  test('acquire, contend and release a lock on a key', async () => {
    const holder = await create({ lockdelay: '0s' });
    const rival = await create({ lockdelay: '0s' });

    assert.equal(await lock('locks/a', { acquire: holder }), true);
    let item = (await h.consul.kv.get('locks/a')) as KvItem;
    assert.equal(item.Session, holder);
    assert.equal(item.LockIndex, 1);

    assert.equal(await lock('locks/a', { acquire: holder }), true, 'the holder may acquire again');
    assert.equal(await lock('locks/a', { acquire: rival }), false, 'held by another session');
    assert.equal(await lock('locks/a', { release: rival }), false, 'only the holder releases');

    assert.equal(await lock('locks/a', { release: holder }), true);
    item = (await h.consul.kv.get('locks/a')) as KvItem;
    assert.equal('Session' in item, false);
    assert.equal(item.LockIndex, 1, 'release keeps the LockIndex');

    assert.equal(await lock('locks/a', { acquire: rival }), true);
    assert.equal(((await h.consul.kv.get('locks/a')) as KvItem).LockIndex, 2);
  });

  test('destroying a release-behavior session frees its lock, then the lock delay applies', async () => {
    const holder = await create({ lockdelay: '15s' });
    const rival = await create();
    assert.equal(await lock('locks/b', { acquire: holder }), true);

    await h.consul.session.destroy(holder);
    const item = (await h.consul.kv.get('locks/b')) as KvItem;
    assert.equal(item.Key, 'locks/b', 'the key stays');
    assert.equal('Session' in item, false, 'the lock is free');
    assert.equal(
      await lock('locks/b', { acquire: rival }),
      false,
      'nobody may take it during the lock delay',
    );
  });

  test('destroying a delete-behavior session deletes the keys it holds', async () => {
    const holder = await create({ behavior: 'delete', lockdelay: '0s' });
    assert.equal(await lock('locks/c', { acquire: holder }), true);
    await h.consul.session.destroy(holder);
    assert.equal(await h.consul.kv.get('locks/c'), undefined);
  });

  test('acquiring with a session that does not exist fails', async () => {
    await assertConsulError(
      h.consul.kv.set({ key: 'locks/d', value: 'x', acquire: '00000000-0000-4000-8000-000000000001' }),
      500,
      /^(rpc error making call: )?invalid session "00000000-0000-4000-8000-000000000001"$/,
    );
  });
});
