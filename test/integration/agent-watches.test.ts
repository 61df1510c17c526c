import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { type ApiEvent, type ApiKvPair, goEvent, goKvPair } from '../helpers/go-api-json.ts';
import { type HookRequest, HookServer } from '../helpers/hook-server.ts';
import { api, eventually } from '../helpers/http.ts';

// The agent's `watches` from its config files (JSON and HCL), run against its own API: HTTP handlers post
// each change to a real HTTP server; an `args` handler runs for user events that arrive by gossip from
// another agent; SIGHUP replaces the watches with what the files now say.

describe('agent watches', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tribune-watches-'));
  const configDir = join(dir, 'config');
  const eventsDir = join(dir, 'events');
  let hooks: HookServer;
  let agent: DevAgent;
  let other: DevAgent;

  const keyWatchJson = (path: string) =>
    JSON.stringify({
      watches: [
        {
          type: 'key',
          key: 'app/config',
          handler_type: 'http',
          http_handler_config: { path: `${hooks.url}${path}`, header: { 'X-Watch': ['key'] }, timeout: '5s' },
        },
      ],
    });

  before(async () => {
    hooks = await HookServer.start();
    mkdirSync(configDir);
    mkdirSync(eventsDir);
    writeFileSync(join(configDir, 'key.json'), keyWatchJson('/v1'));
    writeFileSync(
      join(configDir, 'more.hcl'),
      `
watches {
  type = "keyprefix"
  prefix = "app/"
  handler_type = "http"
  http_handler_config {
    path = "${hooks.url}/fail/prefix"
    method = "PUT"
  }
}
watches {
  type = "event"
  name = "deploy"
  args = ["/bin/sh", "-c", "cat > \\"$0/run.$$\\" && mv \\"$0/run.$$\\" \\"$0/$(date +%s%N).json\\"", "${eventsDir}"]
}
`,
    );
    [agent, other] = await Promise.all([startDevAgent(['-config-dir', configDir]), startDevAgent()]);
  });
  after(async () => {
    await Promise.all([agent?.stop(), other?.stop()]);
    hooks?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const kvPair = async (key: string) =>
    (await api(agent.httpAddr, 'GET', `/v1/kv/${key}`)).json<ApiKvPair[]>()[0]!;
  const onPath = (path: string, requests: HookRequest[] = hooks.requests) =>
    requests.filter((r) => r.path === path);
  const lastHas = (path: string, text: string) => (requests: HookRequest[]) =>
    onPath(path, requests).at(-1)?.body.includes(text) ?? false;

  test('a key watch posts the absent key, then each change, as Consul sends it', async () => {
    await hooks.until('the post at start', (requests) => onPath('/v1', requests).length === 1);
    const [first] = onPath('/v1');
    assert.equal(first!.method, 'POST');
    assert.equal(first!.body, 'null\n');
    assert.equal(first!.headers['content-type'], 'application/json');
    assert.equal(first!.headers['x-watch'], 'key');

    for (const value of ['one', 'two']) {
      assert.equal((await api(agent.httpAddr, 'PUT', '/v1/kv/app/config', value)).text, 'true');
      await hooks.until(`the post of "${value}"`, lastHas('/v1', b64(value)));
      const pair = await kvPair('app/config');
      const posted = onPath('/v1').at(-1)!;
      assert.equal(posted.body, `${goKvPair(pair)}\n`);
      assert.equal(posted.headers['x-consul-index'], String(pair.ModifyIndex));
    }
    assert.equal(onPath('/v1').length, 3, 'one post at start and one per change, no more');
  });

  test('a keyprefix watch from HCL puts to its endpoint; a 500 there is logged and the watch goes on', async () => {
    await hooks.until('the prefix watch posting the second change', lastHas('/fail/prefix', b64('two')));
    assert.ok(onPath('/fail/prefix').every((r) => r.method === 'PUT'));
    assert.match(
      agent.output(),
      /"status":"500 Internal Server Error".*"msg":"http watch handler failed with output"/,
    );
    await api(agent.httpAddr, 'PUT', '/v1/kv/app/other', 'x');
    await hooks.until('the next change at the endpoint', lastHas('/fail/prefix', '"Key":"app/other"'));
  });

  test('an event fired on another agent reaches this one by gossip and runs the args handler', async () => {
    assert.equal((await api(agent.httpAddr, 'PUT', `/v1/agent/join/${other.host}`)).status, 200);
    const handled = () =>
      readdirSync(eventsDir)
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => readFileSync(join(eventsDir, name), 'utf8'));
    // At start the handler ran once with the events the agent had: none. Each run's file appears whole.
    await eventually('the first run', async () => (handled().length > 0 ? true : undefined));
    assert.deepEqual(handled(), ['[]\n']);

    const fired = (await api(other.httpAddr, 'PUT', '/v1/event/fire/deploy', 'v2')).json<ApiEvent>();
    const runs = await eventually('the handler runs for the event', async () =>
      handled().length === 2 ? handled() : undefined,
    );
    const [received] = (await api(agent.httpAddr, 'GET', '/v1/event/list?name=deploy')).json<ApiEvent[]>();
    assert.equal(received!.ID, fired.ID);
    assert.equal(runs[1], `[${goEvent(received!)}]\n`);
  });

  test('SIGHUP replaces the watches with what the files now say', async () => {
    writeFileSync(join(configDir, 'key.json'), keyWatchJson('/v2'));
    const before = onPath('/v1').length;
    agent.process.kill('SIGHUP');
    // The new watch posts the current value to its new endpoint as it starts.
    await hooks.until('the new watch at its endpoint', (requests) => onPath('/v2', requests).length === 1);
    await api(agent.httpAddr, 'PUT', '/v1/kv/app/config', 'three');
    await hooks.until('the change at the new endpoint', lastHas('/v2', b64('three')));
    assert.equal(onPath('/v1').length, before, 'the old watch stopped');
  });
});

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}
