import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Consul from 'consul';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api } from '../helpers/http.ts';

// User events on a dev agent through the npm consul client and raw HTTP: fire, list with ?name, blocking
// on Consul's event index, filters, and Consul's errors.

interface EventJson {
  ID: string;
  Name: string;
  Payload: string | null;
  NodeFilter: string;
  Version: number;
  LTime: number;
}

let agent: DevAgent;
let consul: Consul;
before(async () => {
  agent = await startDevAgent();
  consul = new Consul({ host: agent.host, port: agent.port });
});
after(() => agent.stop());

const list = async (query = '') => {
  const res = await api(agent.httpAddr, 'GET', `/v1/event/list${query}`);
  return { index: res.headers.get('x-consul-index')!, events: res.json<EventJson[]>() };
};

describe('user events', () => {
  test('fire answers with the event; the agent lists it with its payload and Lamport time', async () => {
    const fired = (await consul.event.fire({ name: 'deploy', payload: 'v1.2.3' })) as EventJson;
    assert.match(fired.ID, /^[0-9a-f-]{36}$/);
    assert.equal(fired.Name, 'deploy');
    assert.equal(fired.Version, 1);
    assert.equal(fired.LTime, 0);
    const { events } = await list();
    const seen = events.find((e) => e.ID === fired.ID);
    assert.ok(seen, 'the fired event is listed');
    assert.equal(Buffer.from(seen.Payload!, 'base64').toString(), 'v1.2.3');
    assert.ok(seen.LTime >= 1);
  });

  test('?name filters, and the index follows the last listed event', async () => {
    await consul.event.fire({ name: 'other', payload: '' });
    const { events, index } = await list('?name=deploy');
    assert.ok(events.every((e) => e.Name === 'deploy'));
    const id = events.at(-1)!.ID.replaceAll('-', '');
    const expected = BigInt(`0x${id.slice(0, 16)}`) ^ BigInt(`0x${id.slice(16)}`);
    assert.equal(index, String(expected));
  });

  test('a blocking list returns when the next event arrives', async () => {
    const { index } = await list('?name=wake');
    const blocked = api(agent.httpAddr, 'GET', `/v1/event/list?name=wake&index=${index}&wait=30s`);
    const fired = (await consul.event.fire({ name: 'wake', payload: '' })) as EventJson;
    const answer = await blocked;
    assert.ok(answer.json<EventJson[]>().some((e) => e.ID === fired.ID));
    assert.notEqual(answer.headers.get('x-consul-index'), index);
  });

  test('an event whose node filter does not match this agent is not kept', async () => {
    const fired = (await consul.event.fire({
      name: 'elsewhere',
      payload: '',
      node: '^nobody$',
    })) as EventJson;
    const marker = (await consul.event.fire({ name: 'marker', payload: '' })) as EventJson;
    const { events } = await list();
    assert.ok(
      events.some((e) => e.ID === marker.ID),
      'later events arrive',
    );
    assert.ok(!events.some((e) => e.ID === fired.ID));
  });

  test("bad filters get Consul's errors", async () => {
    const badRegex = await api(agent.httpAddr, 'PUT', '/v1/event/fire/x?node=(');
    assert.equal(badRegex.status, 500);
    assert.match(badRegex.text, /^Invalid node filter/);
    const tagOnly = await api(agent.httpAddr, 'PUT', '/v1/event/fire/x?tag=v1');
    assert.equal(tagOnly.status, 500);
    assert.equal(tagOnly.text, 'Cannot provide tag filter without service filter');
  });
});
