import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  answered,
  assertConsulError,
  assertFetchError,
  assertFields,
  assertJsonType,
  assertQueryMeta,
  base64,
  type Harness,
  headersOf,
  openHarness,
  wireBody,
} from './helpers.ts';

// /v1/kv through node-consul's kv.get/set/keys/del against a real dev agent.

interface KvItem {
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Key: string;
  Flags: number;
  Value: string | null;
  Session?: string;
}

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(() => h?.close());

describe('kv via node-consul', () => {
  // Runs first, while the store is still empty.
  test('the root of an empty store lists no keys as [] (not 404)', async () => {
    const { res, body } = await answered<string[]>((o) => h.consul.kv.keys({ key: '', ...o }));
    assert.equal(res.statusCode, 200);
    assert.deepEqual(body, []);
    assertQueryMeta(res);
  });

  test('set with flags, then get: the item shape, the decoded value and the query meta', async () => {
    assert.equal(await h.consul.kv.set({ key: 'app/config', value: 'hello', flags: 42 }), true);

    const { res, body } = await answered<KvItem>((o) => h.consul.kv.get({ key: 'app/config', ...o }));
    assert.equal(res.statusCode, 200);
    assertJsonType(res);
    assertFields(body, {
      LockIndex: 'number',
      Key: 'string',
      Flags: 'number',
      Value: 'string',
      CreateIndex: 'number',
      ModifyIndex: 'number',
    });
    assert.equal(body!.Key, 'app/config');
    assert.equal(body!.Flags, 42);
    assert.equal(body!.Value, 'hello');
    assert.equal(body!.LockIndex, 0);
    assert.equal(body!.CreateIndex, body!.ModifyIndex);
    assert.equal('Session' in body!, false, 'Session is omitted when no session holds the key');
    const index = assertQueryMeta(res);
    assert.ok(index >= BigInt(body!.ModifyIndex), 'X-Consul-Index covers the entry');
  });

  test('values travel base64-encoded in the JSON body', async () => {
    await h.consul.kv.set('app/encoded', 'héllo wörld');
    const res = await h.fetch('/kv/app/encoded');
    const [item] = (await res.json()) as KvItem[];
    assert.equal(item!.Value, base64('héllo wörld'));
  });

  test('an empty value is stored as null', async () => {
    assert.equal(await h.consul.kv.set('app/empty', ''), true);
    const item = (await h.consul.kv.get('app/empty')) as KvItem;
    assert.equal(item.Value, null);
    const [wire] = (await (await h.fetch('/kv/app/empty')).json()) as KvItem[];
    assert.equal(wire!.Value, null);
  });

  test('a missing key is a 404 with an empty body and the query meta headers', async () => {
    const { res, body } = await answered((o) => h.consul.kv.get({ key: 'app/missing', ...o }));
    assert.equal(res.statusCode, 404);
    assert.equal(body, undefined);
    assert.equal(res.body, undefined, 'empty body');
    assertQueryMeta(res);
  });

  test('raw returns the bare bytes as text/plain with nosniff', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await h.consul.kv.set({ key: 'app/binary', value: bytes });
    const { res, body } = await answered<Buffer>((o) =>
      h.consul.kv.get({ key: 'app/binary', raw: true, ...o }),
    );
    assert.ok(Buffer.isBuffer(body));
    assert.deepEqual(body, bytes);
    assert.match(String(res.headers['content-type']), /^text\/plain\b/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assertQueryMeta(res);
  });

  test('keys are stored verbatim, including spaces, unicode and percent signs', async () => {
    const key = 'odd keys/ä b%20c';
    await h.consul.kv.set(key, 'x');
    const item = (await h.consul.kv.get(key)) as KvItem;
    assert.equal(item.Key, key);
    assert.deepEqual(await h.consul.kv.keys('odd keys/'), [key]);
  });

  // kv.set and kv.del answer JSON true/false; `false` is read off the wire (see wireBody).
  const set = (options: { key: string; value: string; cas: number }) =>
    wireBody<boolean>((o) => h.consul.kv.set({ ...options, ...o }));
  const del = (options: { key: string; cas: number }) =>
    wireBody<boolean>((o) => h.consul.kv.del({ ...options, ...o }));

  test('cas=0 creates only when absent; cas=N updates only at ModifyIndex N', async () => {
    assert.equal(await set({ key: 'cas/k', value: 'v1', cas: 0 }), true);
    assert.equal(await set({ key: 'cas/k', value: 'v2', cas: 0 }), false, 'key exists');

    const current = (await h.consul.kv.get('cas/k')) as KvItem;
    assert.equal(current.Value, 'v1');
    assert.equal(await set({ key: 'cas/k', value: 'v3', cas: current.ModifyIndex + 1000 }), false);
    assert.equal(((await h.consul.kv.get('cas/k')) as KvItem).Value, 'v1', 'a failed cas changes nothing');

    assert.equal(await set({ key: 'cas/k', value: 'v4', cas: current.ModifyIndex }), true);
    const updated = (await h.consul.kv.get('cas/k')) as KvItem;
    assert.equal(updated.Value, 'v4');
    assert.ok(updated.ModifyIndex > current.ModifyIndex);
    assert.equal(updated.CreateIndex, current.CreateIndex);
  });

  test('del with cas only deletes at the current ModifyIndex', async () => {
    await h.consul.kv.set('cas/del', 'x');
    const item = (await h.consul.kv.get('cas/del')) as KvItem;
    assert.equal(await del({ key: 'cas/del', cas: item.ModifyIndex + 1000 }), false);
    assert.notEqual(await h.consul.kv.get('cas/del'), undefined, 'still there');
    assert.equal(await del({ key: 'cas/del', cas: item.ModifyIndex }), true);
    assert.equal(await h.consul.kv.get('cas/del'), undefined);
  });

  test('del of a key returns true, even when the key does not exist', async () => {
    await h.consul.kv.set('gone/k', 'x');
    assert.equal(await h.consul.kv.del('gone/k'), true);
    assert.equal(await h.consul.kv.get('gone/k'), undefined);
    assert.equal(await h.consul.kv.del('gone/never-existed'), true);
  });

  describe('prefixes', () => {
    before(async () => {
      for (const key of ['tree/b', 'tree/a', 'tree/sub/c', 'tree/sub/deeper/d', 'treetop']) {
        await h.consul.kv.set(key, `value of ${key}`);
      }
    });

    test('recurse returns every item under the prefix, sorted by key, values decoded', async () => {
      const { res, body } = await answered<KvItem[]>((o) =>
        h.consul.kv.get({ key: 'tree/', recurse: true, ...o }),
      );
      assert.ok(Array.isArray(body));
      assert.deepEqual(
        body.map((item) => item.Key),
        ['tree/a', 'tree/b', 'tree/sub/c', 'tree/sub/deeper/d'],
      );
      assert.deepEqual(
        body.map((item) => item.Value),
        body.map((item) => `value of ${item.Key}`),
      );
      assertQueryMeta(res);
    });

    test('recurse on a prefix with nothing under it is a 404', async () => {
      const { res, body } = await answered((o) => h.consul.kv.get({ key: 'nothing/', recurse: true, ...o }));
      assert.equal(res.statusCode, 404);
      assert.equal(body, undefined);
      assertQueryMeta(res);
    });

    test('keys lists every key under the prefix', async () => {
      const { res, body } = await answered<string[]>((o) => h.consul.kv.keys({ key: 'tree/', ...o }));
      assert.deepEqual(body, ['tree/a', 'tree/b', 'tree/sub/c', 'tree/sub/deeper/d']);
      assertJsonType(res);
      assertQueryMeta(res);
      assert.deepEqual(await h.consul.kv.keys('tree'), [
        'tree/a',
        'tree/b',
        'tree/sub/c',
        'tree/sub/deeper/d',
        'treetop',
      ]);
    });

    test('keys with a separator folds deeper keys into their first "folder"', async () => {
      assert.deepEqual(await h.consul.kv.keys({ key: 'tree/', separator: '/' }), [
        'tree/a',
        'tree/b',
        'tree/sub/',
      ]);
      assert.deepEqual(await h.consul.kv.keys({ key: 'tree/sub/', separator: '/' }), [
        'tree/sub/c',
        'tree/sub/deeper/',
      ]);
      // Consul still honours the historic misspelling.
      const res = await h.fetch('/kv/tree/?keys&seperator=/');
      assert.deepEqual(await res.json(), ['tree/a', 'tree/b', 'tree/sub/']);
    });

    test('keys of a non-empty prefix with no match is a 404 with the query meta', async () => {
      await assertConsulError(h.consul.kv.keys('nothing/'), 404, '');
      const res = await h.fetch('/kv/nothing/?keys');
      assert.equal(res.status, 404);
      assertQueryMeta(headersOf(res));
    });

    test('del with recurse removes the whole prefix and nothing beside it', async () => {
      await h.consul.kv.set('tree2/x', '1');
      await h.consul.kv.set('tree2/y/z', '2');
      await h.consul.kv.set('tree2-sibling', '3');
      assert.equal(await h.consul.kv.del({ key: 'tree2/', recurse: true }), true);
      assert.equal(await h.consul.kv.get({ key: 'tree2/', recurse: true }), undefined);
      assert.equal(((await h.consul.kv.get('tree2-sibling')) as KvItem).Value, '3');
    });
  });

  describe('errors', () => {
    test('more than one of cas/acquire/release is a 400 that echoes the query', async () => {
      await assertConsulError(
        h.consul.kv.set({ key: 'err/k', value: 'x', cas: 0, acquire: 'some-session' }),
        400,
        'Conflicting flags: acquire=some-session&cas=0',
      );
      assert.equal(await h.consul.kv.get('err/k'), undefined, 'nothing was written');
    });

    test('del with both recurse and cas is a 400', async () => {
      await assertConsulError(
        h.consul.kv.del({ key: 'err/', recurse: true, cas: 5 }),
        400,
        'Conflicting flags: cas=5&recurse=true',
      );
    });

    test("a non-numeric flags value fails with Go's parse error as a 500", async () => {
      // Consul hands strconv's error straight back, which its HTTP layer answers with 500.
      const res = await h.fetch('/kv/err/flags?flags=abc', { method: 'PUT', body: 'x' });
      await assertFetchError(res, 500, 'strconv.ParseUint: parsing "abc": invalid syntax');
      assert.equal(await h.consul.kv.get('err/flags'), undefined, 'nothing was written');
    });
  });
});
