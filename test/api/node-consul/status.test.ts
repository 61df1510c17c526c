import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { answered, assertJsonType, type Harness, openHarness } from './helpers.ts';

// /v1/status through node-consul's status.* against a real dev agent: a single server that leads itself.

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(() => h?.close());

describe('status via node-consul', () => {
  test('leader is the server RPC address of this agent, as a JSON string', async () => {
    const { res, body } = await answered<string>((o) => h.consul.status.leader({ ...o }));
    assert.equal(res.statusCode, 200);
    assertJsonType(res);
    assert.equal(body, `${h.agent.host}:8300`);
  });

  test('peers lists the Raft peers: just this server', async () => {
    const { res, body } = await answered<string[]>((o) => h.consul.status.peers({ ...o }));
    assertJsonType(res);
    assert.deepEqual(body, [`${h.agent.host}:8300`]);
  });

  test('?pretty indents the JSON by four spaces', async () => {
    const text = await (await h.fetch('/status/peers?pretty')).text();
    assert.equal(text, `[\n    "${h.agent.host}:8300"\n]\n`);
  });
});
