import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api } from '../helpers/http.ts';

// Snapshot save on one agent and restore on another yields the same KV and catalog; a damaged archive is
// refused and leaves the target untouched.

let source: DevAgent;
let target: DevAgent;
before(async () => {
  [source, target] = await Promise.all([startDevAgent(), startDevAgent()]);
});
after(() => Promise.all([source.stop(), target.stop()]));

async function contents(agent: DevAgent) {
  const kv = (await api(agent.httpAddr, 'GET', '/v1/kv/?recurse')).json<unknown[]>();
  const web = (await api(agent.httpAddr, 'GET', '/v1/catalog/service/web')).json<unknown[]>();
  const nodes = (await api(agent.httpAddr, 'GET', '/v1/catalog/nodes')).json<{ Node: string }[]>();
  return { kv, web, nodes: nodes.map((n) => n.Node).filter((n) => n.startsWith('ext-')) };
}

async function download(agent: DevAgent): Promise<Uint8Array> {
  const response = await fetch(`http://${agent.httpAddr}/v1/snapshot`);
  assert.equal(response.status, 200);
  assert.ok(Number(response.headers.get('x-consul-index')) > 0);
  return new Uint8Array(await response.arrayBuffer());
}

describe('snapshots', () => {
  test('save on one agent, restore on another: identical KV and catalog', async () => {
    for (let i = 0; i < 50; i++)
      await api(source.httpAddr, 'PUT', `/v1/kv/app/key-${i}?flags=${i}`, `value-${i}`);
    for (let i = 0; i < 5; i++) {
      await api(source.httpAddr, 'PUT', '/v1/catalog/register', {
        Node: `ext-${i}`,
        Address: `10.1.0.${i}`,
        Service: { Service: 'web', ID: `web-${i}`, Port: 8000 + i, Tags: ['v1'] },
      });
    }
    const archive = await download(source);
    const tar = gunzipSync(archive).toString('latin1');
    for (const name of ['meta.json', 'state.bin', 'SHA256SUMS'])
      assert.ok(tar.includes(name), `archive holds ${name}`);

    await api(target.httpAddr, 'PUT', '/v1/kv/only-on-target', 'gone after restore');
    const restored = await api(target.httpAddr, 'PUT', '/v1/snapshot', archive);
    assert.equal(restored.status, 200, restored.text);
    assert.deepEqual(await contents(target), await contents(source));
    assert.equal((await api(target.httpAddr, 'GET', '/v1/kv/only-on-target')).status, 404);
    const self = (await api(target.httpAddr, 'GET', '/v1/agent/self')).json<{
      Config: { NodeName: string };
    }>();
    const node = await api(target.httpAddr, 'GET', `/v1/catalog/node/${self.Config.NodeName}`);
    assert.ok(
      node.json<{ Services: Record<string, unknown> }>().Services.consul,
      'the agent re-registered itself',
    );
  });

  test('a damaged archive is refused with 400 and the data stays', async () => {
    await api(target.httpAddr, 'PUT', '/v1/kv/guard', 'intact');
    const archive = await download(target);
    const tar = Buffer.from(gunzipSync(archive));
    const corrupted = tar.indexOf('state.bin') + 700;
    tar[corrupted] = (tar[corrupted] ?? 0) ^ 0xff;
    for (const body of [gzipSync(tar), Buffer.from('not a snapshot')]) {
      const response = await api(target.httpAddr, 'PUT', '/v1/snapshot', body);
      assert.equal(response.status, 400);
      assert.match(response.text, /checksum mismatch|not a gzip archive|not a valid tar/);
    }
    assert.equal((await api(target.httpAddr, 'GET', '/v1/kv/guard?raw')).text, 'intact');
  });
});
