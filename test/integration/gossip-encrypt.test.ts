import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';

// -encrypt: agents sharing a key gossip (and say so in /v1/agent/self); an agent with another key cannot
// join them; a malformed key stops the agent at start.

const key = randomBytes(32).toString('base64');
const agents: DevAgent[] = [];
before(async () => {
  agents.push(await startDevAgent(['-encrypt', key]), await startDevAgent(['-encrypt', key]));
  agents.push(await startDevAgent(['-encrypt', randomBytes(32).toString('base64')]));
});
after(() => Promise.all(agents.map((a) => a.stop())));

describe('gossip encryption', () => {
  test('two agents with the same key join and see each other', async () => {
    const [a, b] = agents;
    const join = await api(a!.httpAddr, 'PUT', `/v1/agent/join/${b!.host}`);
    assert.equal(join.status, 200, join.text);
    await eventually('both alive in b', async () => {
      const members = (await api(b!.httpAddr, 'GET', '/v1/agent/members')).json<{ Status: number }[]>();
      return members.length === 2 && members.every((m) => m.Status === 1) ? true : undefined;
    });
    const self = (await api(a!.httpAddr, 'GET', '/v1/agent/self')).json<{
      Stats: { serf_lan: { encrypted: string } };
    }>();
    assert.equal(self.Stats.serf_lan.encrypted, 'true');
  });

  test('an agent with another key cannot join', async () => {
    const [a, , stranger] = agents;
    const join = await api(stranger!.httpAddr, 'PUT', `/v1/agent/join/${a!.host}`);
    assert.equal(join.status, 500);
    assert.match(join.text, /Failed to join/);
    const members = (await api(a!.httpAddr, 'GET', '/v1/agent/members')).json<{ Name: string }[]>();
    assert.ok(!members.some((m) => m.Name === `test-${stranger!.host}`));
  });

  test('a key that is not 16, 24 or 32 bytes of base64 stops the agent', async () => {
    await assert.rejects(startAgent('127.3.3.3', ['-dev', '-encrypt', 'c2hvcnQ=']), /Invalid encryption key/);
  });
});
