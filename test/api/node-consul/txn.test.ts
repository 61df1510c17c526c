import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  answered,
  assertFields,
  assertJsonType,
  base64,
  type ClientResponse,
  type Harness,
  openHarness,
  type ResponseOptions,
} from './helpers.ts';

// /v1/txn through node-consul's transaction.create against a real dev agent.

interface TxnResponse {
  Results: Record<string, Record<string, unknown>>[] | null;
  Errors: { OpIndex: number; What: string }[] | null;
}

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(() => h?.close());

/**
 * node-consul sends the operations array as the body verbatim. Its typings describe neither Consul's
 * `{ KV: {...} }` op shape nor the one-argument `create(operations)` form the code implements.
 */
function txn(operations: object[], options: Partial<ResponseOptions> = {}): Promise<unknown> {
  const create = h.consul.transaction.create.bind(h.consul.transaction) as unknown as (
    ops: object[],
    opts?: object,
  ) => Promise<unknown>;
  return Object.keys(options).length > 0 ? create(operations, options) : create(operations);
}

/** Runs a transaction Consul refuses (409) and returns its JSON body. */
async function conflicting(operations: object[]): Promise<TxnResponse> {
  let response: ClientResponse | undefined;
  await assert.rejects(txn(operations), (err: Error & { statusCode?: number; response?: ClientResponse }) => {
    assert.equal(err.statusCode, 409, err.message);
    response = err.response;
    return true;
  });
  assertJsonType(response!);
  return response!.body as TxnResponse;
}

const kv = (Verb: string, Key: string, extra: Record<string, unknown> = {}) => ({
  KV: { Verb, Key, ...extra },
});

describe('txn via node-consul', () => {
  test('a KV transaction applies every op atomically and returns the results', async () => {
    const body = (await txn([
      kv('set', 'txn/a', { Value: base64('one'), Flags: 7 }),
      kv('set', 'txn/b', { Value: base64('two') }),
      kv('get', 'txn/a'),
    ])) as TxnResponse;

    assert.equal(body.Errors, null);
    assert.ok(Array.isArray(body.Results));
    assert.equal(body.Results.length, 3);
    const [setA, setB, getA] = body.Results.map((result) => result.KV!);
    for (const item of [setA, setB, getA]) {
      assertFields(item, {
        LockIndex: 'number',
        Key: 'string',
        Flags: 'number',
        Value: ['string', 'null'],
        CreateIndex: 'number',
        ModifyIndex: 'number',
      });
    }
    assert.equal(setA!.Key, 'txn/a');
    assert.equal(setA!.Value, null, 'write results carry no value');
    assert.equal(setA!.Flags, 7);
    assert.equal(setB!.Key, 'txn/b');
    assert.equal(setA!.ModifyIndex, setB!.ModifyIndex, 'one transaction, one index');
    assert.equal(getA!.Value, base64('one'), 'get results carry the base64 value');

    assert.equal(((await h.consul.kv.get('txn/a')) as { Value: string }).Value, 'one');
    assert.equal(((await h.consul.kv.get('txn/b')) as { Value: string }).Value, 'two');
  });

  test('a failing op rolls back the whole transaction: 409 with Results null and Errors', async () => {
    const body = await conflicting([
      kv('set', 'txn/rollback', { Value: base64('never') }),
      kv('cas', 'txn/a', { Value: base64('stale'), Index: 1 }),
    ]);
    assert.deepEqual(body, {
      Results: null,
      Errors: [{ OpIndex: 1, What: 'failed to set key "txn/a", index is stale' }],
    });
    assert.equal(await h.consul.kv.get('txn/rollback'), undefined, 'the first op was rolled back');
    assert.equal(((await h.consul.kv.get('txn/a')) as { Value: string }).Value, 'one');
  });

  test('every failing op is reported, not just the first', async () => {
    const body = await conflicting([
      kv('check-not-exists', 'txn/a'),
      kv('set', 'txn/c', { Value: base64('c') }),
      kv('get', 'txn/missing'),
    ]);
    assert.deepEqual(body.Errors, [
      { OpIndex: 0, What: 'key "txn/a" exists' },
      { OpIndex: 2, What: 'key "txn/missing" doesn\'t exist' },
    ]);
    assert.equal(await h.consul.kv.get('txn/c'), undefined);
  });

  test('an unknown KV verb is reported against its op (409), as the state store does', async () => {
    const body = await conflicting([kv('set', 'txn/d', { Value: base64('d') }), kv('frobnicate', 'txn/d')]);
    assert.deepEqual(body.Errors, [{ OpIndex: 1, What: 'unknown KV verb "frobnicate"' }]);
    assert.equal(await h.consul.kv.get('txn/d'), undefined);
  });

  test('delete, delete-tree and check-index verbs', async () => {
    const a = (await h.consul.kv.get('txn/a')) as { ModifyIndex: number };
    const body = (await txn([
      kv('check-index', 'txn/a', { Index: a.ModifyIndex }),
      kv('delete', 'txn/b'),
      kv('set', 'txn/tree/x', { Value: base64('x') }),
      kv('delete-tree', 'txn/tree/'),
    ])) as TxnResponse;
    assert.equal(body.Errors, null);
    // check-index and set produce results; deletes produce none.
    assert.deepEqual(
      body.Results!.map((r) => r.KV!.Key),
      ['txn/a', 'txn/tree/x'],
    );
    assert.equal(await h.consul.kv.get('txn/b'), undefined);
    assert.equal(await h.consul.kv.get({ key: 'txn/tree/', recurse: true }), undefined);
  });

  test('a read-only transaction answers with the leader headers', async () => {
    const { res, body } = await answered<TxnResponse>((o) => txn([kv('get', 'txn/a')], o));
    assert.equal(res.statusCode, 200);
    assertJsonType(res);
    assert.equal(body!.Results![0]!.KV!.Value, base64('one'));
    assert.equal(res.headers['x-consul-knownleader'], 'true');
    assert.match(String(res.headers['x-consul-lastcontact']), /^[0-9]+$/);
  });

  test('catalog Node, Service and Check ops register together', async () => {
    const node = 'txn-node';
    const body = (await txn([
      { Node: { Verb: 'set', Node: { Node: node, Address: '10.1.2.3', Meta: { rack: 'r1' } } } },
      {
        Service: {
          Verb: 'set',
          Node: node,
          Service: { ID: 'db-1', Service: 'db', Port: 5432, Tags: ['primary'] },
        },
      },
      {
        Check: {
          Verb: 'set',
          Check: { Node: node, CheckID: 'db-alive', Name: 'db alive', Status: 'passing', ServiceID: 'db-1' },
        },
      },
    ])) as TxnResponse;

    assert.equal(body.Errors, null);
    const [nodeResult, serviceResult, checkResult] = body.Results!;
    assert.equal(nodeResult!.Node!.Node, node);
    assert.equal(nodeResult!.Node!.Address, '10.1.2.3');
    assert.equal(serviceResult!.Service!.ID, 'db-1');
    assert.equal(serviceResult!.Service!.Port, 5432);
    assert.equal(checkResult!.Check!.CheckID, 'db-alive');
    assert.equal(checkResult!.Check!.Status, 'passing');

    const services = (await h.consul.catalog.node.services(node)) as {
      Node: { Address: string; Meta: Record<string, string> };
      Services: Record<string, { Service: string; Tags: string[] }>;
    };
    assert.equal(services.Node.Address, '10.1.2.3');
    assert.deepEqual(services.Node.Meta, { rack: 'r1' });
    assert.deepEqual(services.Services['db-1']!.Tags, ['primary']);
    const healthy = (await h.consul.health.service({ service: 'db', passing: true })) as unknown[];
    assert.equal(healthy.length, 1);
  });
});
