import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventIndex } from '../../src/util/event-index.ts';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { type ApiEvent, type ApiKvPair, goEvent, goKvPair } from '../helpers/go-api-json.ts';
import { api } from '../helpers/http.ts';
import { startWatch, type WatchProcess } from '../helpers/watch-process.ts';

// `tribune watch` with a handler, as real processes against a dev agent: the handler runs once at start and
// once per change of what is watched (a key, a prefix, a service's health, an event), with the JSON
// Consul's watch sends on stdin and the index in CONSUL_INDEX; changes elsewhere do not run it.

describe('tribune watch runs its handler once per change', { timeout: 60_000 }, () => {
  let agent: DevAgent;
  const watches: WatchProcess[] = [];
  before(async () => {
    agent = await startDevAgent();
  });
  after(async () => {
    await Promise.all(watches.map((w) => w.stop()));
    await agent?.stop();
  });

  const watch = (args: string[]) => {
    const started = startWatch(agent.httpAddr, args);
    watches.push(started);
    return started;
  };
  const put = async (key: string, value: string) =>
    assert.equal((await api(agent.httpAddr, 'PUT', `/v1/kv/${key}`, value)).text, 'true');
  const read = async (path: string) => {
    const res = await api(agent.httpAddr, 'GET', path);
    return { json: res.text === '' ? undefined : res.json(), index: res.headers.get('X-Consul-Index')! };
  };

  test('key: null while absent, then the pair at each write of that key only', async () => {
    const w = watch(['-type=key', '-key=app/db']);
    const [start] = await w.awaitRuns(1);
    assert.equal(start!.json, 'null');
    assert.equal(start!.index, (await read('/v1/kv/app/db')).index);

    await put('app/db', 'one');
    const [, one] = await w.awaitRuns(2);
    const pair = (await read('/v1/kv/app/db')).json as ApiKvPair[];
    assert.equal(one!.json, goKvPair(pair[0]!));
    assert.equal(one!.index, String(pair[0]!.ModifyIndex));

    await put('app/elsewhere', 'x');
    await put('app/db', 'two');
    const runs = await w.awaitRuns(3);
    assert.equal(runs.length, 3, 'the write elsewhere ran nothing');
    assert.equal(runs[2]!.json, goKvPair(((await read('/v1/kv/app/db')).json as ApiKvPair[])[0]!));
  });

  test('keyprefix: every pair under it, and null once the last is deleted', async () => {
    const w = watch(['-type=keyprefix', '-prefix=svc/']);
    assert.equal((await w.awaitRuns(1))[0]!.json, 'null');
    await put('svc/a', '1');
    await w.awaitRuns(2);
    await put('svc/b', '2');
    const runs = await w.awaitRuns(3);
    const listed = (await read('/v1/kv/svc/?recurse')).json as ApiKvPair[];
    assert.equal(runs[2]!.json, `[${listed.map(goKvPair).join(',')}]`);

    assert.equal((await api(agent.httpAddr, 'DELETE', '/v1/kv/svc/?recurse')).text, 'true');
    const [, , , deleted] = await w.awaitRuns(4);
    assert.equal(deleted!.json, 'null');
  });

  test("service: the health entries of passing instances, as Go's api.ServiceEntry", async () => {
    const registered = await api(agent.httpAddr, 'PUT', '/v1/agent/service/register', {
      Name: 'web',
      ID: 'web-1',
      Port: 8080,
      Tags: ['v1'],
      Check: { CheckID: 'web-ttl', TTL: '60s' },
    });
    assert.equal(registered.status, 200);
    const w = watch(['-type=service', '-service=web', '-passingonly=true']);
    assert.equal((await w.awaitRuns(1))[0]!.json, '[]', 'a critical instance is not passing');

    await api(agent.httpAddr, 'PUT', '/v1/agent/check/pass/web-ttl');
    const [, passing] = await w.awaitRuns(2);
    const [entry] = JSON.parse(passing!.json) as Record<string, Record<string, unknown>>[];
    const [api_] = (await read('/v1/health/service/web?passing')).json as Record<
      string,
      Record<string, unknown>
    >[];
    assert.deepEqual(Object.keys(entry!), ['Node', 'Service', 'Checks']);
    assert.deepEqual(Object.keys(entry!.Service!), [
      'ID',
      'Service',
      'Tags',
      'Meta',
      'Port',
      'Address',
      'Weights',
      'EnableTagOverride',
      'CreateIndex',
      'ModifyIndex',
      'Proxy',
      'Connect',
    ]);
    assert.deepEqual(entry!.Service!.Proxy, { MeshGateway: {}, Expose: {} });
    assert.deepEqual(entry!.Node, api_!.Node);
    const checks = entry!.Checks as unknown as Record<string, unknown>[];
    const ttl = checks.find((c) => c.CheckID === 'web-ttl')!;
    assert.equal(ttl.Status, 'passing');
    assert.deepEqual(Object.keys(ttl), [
      'Node',
      'CheckID',
      'Name',
      'Status',
      'Notes',
      'Output',
      'ServiceID',
      'ServiceName',
      'ServiceTags',
      'Type',
      'ExposedPort',
      'Definition',
      'CreateIndex',
      'ModifyIndex',
    ]);
    assert.deepEqual(Object.keys(ttl.Definition as object).slice(0, 4), [
      'Interval',
      'Timeout',
      'DeregisterCriticalServiceAfter',
      'HTTP',
    ]);

    await api(agent.httpAddr, 'PUT', '/v1/agent/check/fail/web-ttl');
    const [, , failing] = await w.awaitRuns(3);
    assert.equal(failing!.json, '[]');
  });

  test('event: the new events of that name only, indexed by the last one’s ID', async () => {
    const w = watch(['-type=event', '-name=deploy']);
    const [start] = await w.awaitRuns(1);
    assert.deepEqual(start, { index: '1', json: '[]' });

    const fire = async (name: string, payload: string) =>
      (await api(agent.httpAddr, 'PUT', `/v1/event/fire/${name}`, payload)).json<ApiEvent>();
    const first = await fire('deploy', 'v1');
    const [, one] = await w.awaitRuns(2);
    const listed = () => read('/v1/event/list?name=deploy').then((r) => r.json as ApiEvent[]);
    assert.equal(one!.json, `[${goEvent((await listed())[0]!)}]`);
    assert.equal(one!.index, String(eventIndex(first.ID)));

    await fire('other', 'x');
    const second = await fire('deploy', 'v2');
    const runs = await w.awaitRuns(3);
    assert.equal(runs.length, 3, 'an event of another name ran nothing');
    // Only the event after the last one handed over, as Consul's watch prunes the list.
    assert.equal(runs[2]!.json, `[${goEvent((await listed())[1]!)}]`);
    assert.equal(runs[2]!.index, String(eventIndex(second.ID)));
  });
});
