import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api } from '../helpers/http.ts';

// Table-driven bad input against a real dev agent: each request gets Consul's status and a clear (plain-text)
// message, and afterwards the agent still serves and the data written before is untouched.

let agent: DevAgent;
before(async () => {
  agent = await startDevAgent();
});
after(() => agent.stop());

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string | Uint8Array;
  status: number;
  message: RegExp;
  headers?: Record<string, RegExp>;
  /** Plain text unless Consul answers with a JSON body (a txn's per-op errors). */
  contentType?: RegExp;
}

const cases: Case[] = [
  {
    name: 'malformed JSON',
    method: 'PUT',
    path: '/v1/agent/service/register',
    body: '{"Name": ',
    status: 400,
    message: /^Request decode failed: /,
  },
  {
    name: 'empty body where one is required',
    method: 'PUT',
    path: '/v1/agent/service/register',
    status: 400,
    message: /^Request decode failed: EOF$/,
  },
  {
    name: 'wrong JSON type',
    method: 'PUT',
    path: '/v1/agent/service/register',
    body: '{"Name":"x","Port":"eighty"}',
    status: 400,
    message: /Port/,
  },
  {
    name: 'service without a name',
    method: 'PUT',
    path: '/v1/agent/service/register',
    body: '{"Port":80}',
    status: 400,
    message: /^Missing service name$/,
  },
  {
    name: 'reserved service meta key',
    method: 'PUT',
    path: '/v1/agent/service/register',
    body: '{"Name":"x","Meta":{"consul-x":"1"}}',
    status: 400,
    message: /reserved/,
  },
  {
    name: 'value over 512 KiB',
    method: 'PUT',
    path: '/v1/kv/too/big',
    body: new Uint8Array(512 * 1024 + 1),
    status: 413,
    message: /too large, max size: 524288 bytes/,
  },
  {
    name: 'bad ?wait',
    method: 'GET',
    path: '/v1/kv/kept?index=1&wait=soon',
    status: 400,
    message: /^Invalid wait time$/,
  },
  {
    name: 'bad ?index',
    method: 'GET',
    path: '/v1/kv/kept?index=abc',
    status: 400,
    message: /^Invalid index$/,
  },
  {
    name: 'negative ?index',
    method: 'GET',
    path: '/v1/catalog/nodes?index=-1',
    status: 400,
    message: /^Invalid index$/,
  },
  {
    name: '?stale with ?consistent',
    method: 'GET',
    path: '/v1/kv/kept?stale&consistent',
    status: 400,
    message: /conflicting semantics/,
  },
  {
    name: 'bad ?max_stale',
    method: 'GET',
    path: '/v1/kv/kept?max_stale=soon',
    status: 400,
    message: /^Invalid max_stale value "soon"$/,
  },
  {
    name: 'conflicting ?cas and ?acquire',
    method: 'PUT',
    path: '/v1/kv/kept?cas=1&acquire=abc',
    status: 400,
    message: /^Conflicting flags: acquire=abc&cas=1$/,
  },
  {
    name: 'conflicting DELETE ?recurse and ?cas',
    method: 'DELETE',
    path: '/v1/kv/kept?recurse&cas=3',
    status: 400,
    message: /^Conflicting flags: /,
  },
  {
    name: 'bad ?flags (Go parse error, a 500 as Consul answers it)',
    method: 'PUT',
    path: '/v1/kv/kept?flags=-2',
    status: 500,
    message: /^strconv\.ParseUint: parsing "-2": invalid syntax$/,
  },
  {
    name: 'session TTL below 10s',
    method: 'PUT',
    path: '/v1/session/create',
    body: '{"TTL":"5s"}',
    status: 500,
    message: /^Invalid Session TTL '5000000000', must be between \[10s=24h0m0s\]$/,
  },
  {
    name: 'session TTL above 24h',
    method: 'PUT',
    path: '/v1/session/create',
    body: '{"TTL":"25h"}',
    status: 500,
    message: /^Invalid Session TTL '90000000000000'/,
  },
  {
    name: 'session TTL without a unit',
    method: 'PUT',
    path: '/v1/session/create',
    body: '{"TTL":"15"}',
    status: 500,
    message: /^Session TTL '15' invalid: time: missing unit/,
  },
  {
    name: 'session behavior',
    method: 'PUT',
    path: '/v1/session/create',
    body: '{"Behavior":"explode"}',
    status: 400,
    message: /^Invalid Behavior setting 'explode'$/,
  },
  {
    name: 'session on an unknown node',
    method: 'PUT',
    path: '/v1/session/create',
    body: '{"Node":"ghost"}',
    status: 500,
    message: /Missing node registration/,
  },
  {
    name: 'renew of an unknown session',
    method: 'PUT',
    path: '/v1/session/renew/6e1c0b3c-0000-4000-8000-000000000000',
    status: 404,
    message: /^Session id '6e1c0b3c-0000-4000-8000-000000000000' not found$/,
  },
  {
    name: 'acquire with an unknown session',
    method: 'PUT',
    path: '/v1/kv/kept?acquire=nope',
    status: 500,
    message: /^invalid session "nope"$/,
  },
  {
    name: 'unknown endpoint',
    method: 'GET',
    path: '/v1/nonsense',
    status: 404,
    message: /404 page not found/,
  },
  {
    name: 'wrong method',
    method: 'DELETE',
    path: '/v1/catalog/nodes',
    status: 405,
    message: /^method DELETE not allowed$/,
    headers: { allow: /GET/ },
  },
  {
    name: 'wrong method on a write endpoint',
    method: 'GET',
    path: '/v1/session/create',
    status: 405,
    message: /not allowed/,
    headers: { allow: /PUT/ },
  },
  {
    name: 'txn with too many operations',
    method: 'PUT',
    path: '/v1/txn',
    body: JSON.stringify(Array.from({ length: 65 }, (_, i) => ({ KV: { Verb: 'get', Key: `k${i}` } }))),
    status: 413,
    message: /too many operations \(65 > 64\)/,
  },
  {
    name: 'txn with an unknown verb',
    method: 'PUT',
    path: '/v1/txn',
    body: '[{"KV":{"Verb":"explode","Key":"k"}}]',
    status: 409,
    contentType: /^application\/json/,
    message: /"What": ?"unknown KV verb \\"explode\\""/,
  },
  {
    name: 'txn that is not an array',
    method: 'PUT',
    path: '/v1/txn',
    body: '{"KV":{}}',
    status: 400,
    message: /^Request decode failed/,
  },
  {
    name: 'bad filter expression',
    method: 'GET',
    path: '/v1/catalog/nodes?filter=Node%20%3D%3D',
    status: 500,
    message: /Failed to create boolean expression evaluator/,
  },
  {
    name: 'check update with a bad status',
    method: 'PUT',
    path: '/v1/agent/check/update/whatever',
    body: '{"Status":"fine"}',
    status: 400,
    message: /Invalid check status: 'fine'/,
  },
  {
    name: 'TTL pass for an unknown check',
    method: 'PUT',
    path: '/v1/agent/check/pass/none',
    status: 404,
    message: /Unknown check ID "none"/,
  },
  {
    name: 'deregister an unknown service',
    method: 'PUT',
    path: '/v1/agent/service/deregister/none',
    status: 404,
    message: /Unknown service ID "none"/,
  },
  {
    name: 'maintenance without enable',
    method: 'PUT',
    path: '/v1/agent/maintenance',
    status: 400,
    message: /^Missing value for enable$/,
  },
  {
    name: 'catalog register without a node',
    method: 'PUT',
    path: '/v1/catalog/register',
    body: '{"Address":"1.2.3.4"}',
    status: 400,
    message: /^Must provide node$/,
  },
  {
    name: 'catalog register in another datacenter',
    method: 'PUT',
    path: '/v1/catalog/register',
    body: '{"Node":"n","Address":"1.2.3.4","Datacenter":"dc9"}',
    status: 500,
    message: /No path to datacenter/,
  },
  {
    name: 'service check before its service',
    method: 'PUT',
    path: '/v1/catalog/register',
    body: '{"Node":"n","Address":"1.2.3.4","Check":{"CheckID":"c","ServiceID":"missing"}}',
    status: 500,
    message: /Missing service registration/,
  },
  {
    name: 'KV GET without a key',
    method: 'GET',
    path: '/v1/kv/',
    status: 400,
    message: /^Missing key name$/,
  },
];

describe('bad input', () => {
  let keptIndex = 0;

  test('setup: a key that must survive every bad request', async () => {
    assert.equal((await api(agent.httpAddr, 'PUT', '/v1/kv/kept', 'precious')).status, 200);
    keptIndex = (await api(agent.httpAddr, 'GET', '/v1/kv/kept')).json<{ ModifyIndex: number }[]>()[0]!
      .ModifyIndex;
  });

  for (const c of cases) {
    test(`${c.name}: ${c.method} ${c.path.slice(0, 60)} → ${c.status}`, async () => {
      const response = await api(agent.httpAddr, c.method, c.path, c.body);
      assert.equal(response.status, c.status, response.text);
      assert.match(response.text, c.message);
      assert.match(response.headers.get('content-type') ?? '', c.contentType ?? /^text\/plain/);
      for (const [header, pattern] of Object.entries(c.headers ?? {})) {
        assert.match(response.headers.get(header) ?? '', pattern, header);
      }
    });
  }

  test('afterwards the agent serves and the data is intact', async () => {
    assert.equal((await api(agent.httpAddr, 'GET', '/v1/status/leader')).status, 200);
    const [kept] = (await api(agent.httpAddr, 'GET', '/v1/kv/kept')).json<
      { Value: string; ModifyIndex: number }[]
    >();
    assert.equal(Buffer.from(kept!.Value, 'base64').toString(), 'precious');
    assert.equal(kept!.ModifyIndex, keptIndex);
    assert.equal(
      (await api(agent.httpAddr, 'GET', '/v1/kv/too/big')).status,
      404,
      'the oversized value was not stored',
    );
    assert.equal(agent.process.exitCode, null);
  });
});
