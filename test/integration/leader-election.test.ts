import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { ApiClient } from '../../src/api/client.ts';
import { LeaderElection } from '../../src/coordination/leader-election.ts';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api } from '../helpers/http.ts';

// The leader-election helper against a real dev agent: one candidate leads at a time, everyone can read who,
// resigning hands over at once, losing the session is reported, and giving up a campaign leaves nothing.

describe('LeaderElection', { timeout: 30_000 }, () => {
  let agent: DevAgent;
  let client: ApiClient;
  before(async () => {
    agent = await startDevAgent();
    client = new ApiClient({ address: agent.httpAddr, token: '', datacenter: '', stale: false });
  });
  after(() => agent?.stop());

  const candidate = (key: string, identity: string) => new LeaderElection(client, { key, identity });
  const sessionIds = async () =>
    (await api(agent.httpAddr, 'GET', '/v1/session/list')).json<{ ID: string }[]>().map((s) => s.ID);

  test('one leads while the other waits; resigning hands leadership over at once', async () => {
    const a = candidate('service/api/leader', 'node-a');
    const b = candidate('service/api/leader', 'node-b');
    const aLeads = await a.campaign();
    assert.ok(aLeads && !aLeads.aborted);
    assert.equal(await b.leader(), 'node-a');

    const bLeads = b.campaign();
    await a.resign();
    assert.ok(aLeads.aborted, 'resigning ends the leadership signal');
    const led = await bLeads;
    assert.ok(led && !led.aborted);
    assert.equal(await a.leader(), 'node-b');
    await b.resign();
    assert.deepEqual(await sessionIds(), [], 'both sessions are gone');
  });

  test('a leader whose session is destroyed is told it lost, and nobody leads', async () => {
    const c = candidate('service/db/leader', 'node-c');
    const leads = await c.campaign();
    assert.ok(leads);
    const [session] = await sessionIds();
    await api(agent.httpAddr, 'PUT', `/v1/session/destroy/${session}`);
    if (!leads.aborted) await once(leads, 'abort');
    assert.equal(await c.leader(), undefined);
    // A lost leadership is still given up, which stops the renewal of the session it had.
    await c.resign();
  });

  test('a campaign given up while another leads returns nothing and leaves no session', async () => {
    const d = candidate('service/queue/leader', 'node-d');
    const e = candidate('service/queue/leader', 'node-e');
    assert.ok(await d.campaign());
    const stop = new AbortController();
    const waiting = e.campaign(stop.signal);
    stop.abort();
    assert.equal(await waiting, undefined);
    assert.equal((await sessionIds()).length, 1, "only the leader's session is left");
    assert.equal(await e.leader(), 'node-d');
    await d.resign();
  });
});
