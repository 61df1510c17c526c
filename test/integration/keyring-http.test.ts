import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clusterServer, loopbackHosts } from '../helpers/cluster.ts';
import { type DevAgent, startAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';

// /v1/operator/keyring against real agents: two dev agents sharing a key rotate to a second one through the
// endpoint (both the WAN and the LAN pool, each member counted), with Consul's shapes, its multi-error text
// when members refuse, its parameter errors, and gossip working afterwards. A server with a data dir keeps
// the rotated keyring in serf/local.keyring and remote.keyring and comes back with it, whatever -encrypt says.

interface KeyringJson {
  WAN: boolean;
  Datacenter: string;
  Segment: string;
  Messages?: Record<string, string>;
  Keys: Record<string, number>;
  PrimaryKeys: Record<string, number>;
  NumNodes: number;
  Error?: string;
}

const newKey = () => randomBytes(32).toString('base64');
const list = async (agent: { httpAddr: string }, query = '') => {
  const response = await api(agent.httpAddr, 'GET', `/v1/operator/keyring${query}`);
  assert.equal(response.status, 200, response.text);
  return response.json<KeyringJson[]>();
};
const nodeOf = (agent: DevAgent) => `test-${agent.host}`;

describe('/v1/operator/keyring on dev agents sharing a key', { timeout: 120_000 }, () => {
  const k1 = newKey();
  let a: DevAgent;
  let b: DevAgent;
  let plain: DevAgent;

  before(async () => {
    [a, b, plain] = await Promise.all([
      startDevAgent(['-encrypt', k1]),
      startDevAgent(['-encrypt', k1]),
      startDevAgent(),
    ]);
    const join = await api(a.httpAddr, 'PUT', `/v1/agent/join/${b.host}`);
    assert.equal(join.status, 200, join.text);
    // Servers that meet on the LAN join each other's WAN pool too.
    await eventually('both pools hold both agents', async () => {
      const lan = (await api(a.httpAddr, 'GET', '/v1/agent/members')).json<{ Status: number }[]>();
      const wan = (await api(a.httpAddr, 'GET', '/v1/agent/members?wan=1')).json<{ Status: number }[]>();
      return lan.length === 2 && wan.length === 2 && [...lan, ...wan].every((m) => m.Status === 1)
        ? true
        : undefined;
    });
  });
  after(() => Promise.all([a?.stop(), b?.stop(), plain?.stop()]));

  test('GET lists the WAN pool, then the LAN pool, with every member counted', async () => {
    const responses = await list(a);
    assert.deepEqual(responses, [
      {
        WAN: true,
        Datacenter: 'dc1',
        Segment: '',
        Keys: { [k1]: 2 },
        PrimaryKeys: { [k1]: 2 },
        NumNodes: 2,
      },
      {
        WAN: false,
        Datacenter: 'dc1',
        Segment: '',
        Keys: { [k1]: 2 },
        PrimaryKeys: { [k1]: 2 },
        NumNodes: 2,
      },
    ]);
    const local = await list(a, '?local-only=true&relay-factor=1');
    assert.equal(local.length, 1, 'local-only leaves the WAN pool out');
    assert.equal(local[0]!.WAN, false);
  });

  test('install, use and remove rotate every member to the new key; gossip keeps working', async () => {
    const k2 = newKey();
    const install = await api(a.httpAddr, 'POST', '/v1/operator/keyring', { Key: k2 });
    assert.equal(install.status, 200, install.text);
    assert.equal(install.text, '');
    for (const pool of await list(b)) assert.deepEqual(pool.Keys, { [k1]: 2, [k2]: 2 });

    const use = await api(b.httpAddr, 'PUT', '/v1/operator/keyring', { Key: k2 });
    assert.equal(use.status, 200, use.text);
    for (const pool of await list(a)) assert.deepEqual(pool.PrimaryKeys, { [k2]: 2 });

    const refused = await api(a.httpAddr, 'DELETE', '/v1/operator/keyring', { Key: k2 });
    assert.equal(refused.status, 500);
    const [wanA, wanB] = [`${nodeOf(a)}.dc1`, `${nodeOf(b)}.dc1`].sort();
    const [lanA, lanB] = [nodeOf(a), nodeOf(b)].sort();
    assert.equal(
      refused.text,
      '6 errors occurred:\n' +
        '\t* WAN error: 2/2 nodes reported failure\n' +
        `\t* ${wanA}: Removing the primary key is not allowed\n` +
        `\t* ${wanB}: Removing the primary key is not allowed\n` +
        '\t* dc1 (LAN) error: 2/2 nodes reported failure\n' +
        `\t* ${lanA}: Removing the primary key is not allowed\n` +
        `\t* ${lanB}: Removing the primary key is not allowed\n\n`,
    );

    const remove = await api(a.httpAddr, 'DELETE', '/v1/operator/keyring', { Key: k1 });
    assert.equal(remove.status, 200, remove.text);
    for (const pool of await list(a)) {
      assert.deepEqual(pool.Keys, { [k2]: 2 });
      assert.deepEqual(pool.PrimaryKeys, { [k2]: 2 });
    }

    // Gossip after the rotation: a user event fired on a reaches b, and both stay alive in both pools.
    const fired = await api(a.httpAddr, 'PUT', '/v1/event/fire/rotated');
    assert.equal(fired.status, 200, fired.text);
    await eventually('the event reaches b', async () => {
      const events = (await api(b.httpAddr, 'GET', '/v1/event/list?name=rotated')).json<unknown[]>();
      return events.length === 1 ? true : undefined;
    });
    const lan = (await api(b.httpAddr, 'GET', '/v1/agent/members')).json<{ Status: number }[]>();
    assert.ok(lan.length === 2 && lan.every((m) => m.Status === 1));
  });

  test("parameter errors are Consul's 400s; a key that is not base64 fails in every pool", async () => {
    const cases: [string, string, string | object | undefined, string][] = [
      ['GET', '?relay-factor=9', undefined, 'Invalid relay-factor: Relay factor must be in range: [0, 5]'],
      [
        'GET',
        '?relay-factor=x',
        undefined,
        'Error parsing relay factor: strconv.Atoi: parsing "x": invalid syntax',
      ],
      [
        'GET',
        '?local-only=maybe',
        undefined,
        'Error parsing local-only: strconv.ParseBool: parsing "maybe": invalid syntax',
      ],
      [
        'POST',
        '?local-only=true',
        { Key: newKey() },
        'Invalid use of local-only: local-only can only be set for list requests',
      ],
      ['POST', '', undefined, 'Request decode failed: EOF'],
    ];
    for (const [method, query, body, message] of cases) {
      const response = await api(a.httpAddr, method, `/v1/operator/keyring${query}`, body);
      assert.equal(response.status, 400, `${method} ${query}`);
      assert.equal(response.text, message);
    }
    const garbage = await api(a.httpAddr, 'POST', '/v1/operator/keyring', { Key: 'not base64!' });
    assert.equal(garbage.status, 500);
    assert.equal(
      garbage.text,
      '2 errors occurred:\n' +
        '\t* WAN error: illegal base64 data at input byte 3\n' +
        '\t* dc1 (LAN) error: illegal base64 data at input byte 3\n\n',
    );
    const patch = await api(a.httpAddr, 'PATCH', '/v1/operator/keyring');
    assert.equal(patch.status, 405);
  });

  test('without encryption every member says so and the request fails', async () => {
    const response = await api(plain.httpAddr, 'GET', '/v1/operator/keyring');
    assert.equal(response.status, 500);
    const node = nodeOf(plain);
    assert.equal(
      response.text,
      '4 errors occurred:\n' +
        '\t* WAN error: 1/1 nodes reported failure\n' +
        `\t* ${node}.dc1: Keyring is empty (encryption not enabled)\n` +
        '\t* dc1 (LAN) error: 1/1 nodes reported failure\n' +
        `\t* ${node}: Keyring is empty (encryption not enabled)\n\n`,
    );
    const install = await api(plain.httpAddr, 'POST', '/v1/operator/keyring?local-only=false', {
      Key: newKey(),
    });
    assert.equal(install.status, 500);
    assert.match(install.text, /No keyring to modify \(encryption not enabled\)/);
  });
});

describe('a server keeps its rotated keyring under its data dir', { timeout: 120_000 }, () => {
  const [host] = loopbackHosts(1);
  const k1 = newKey();
  const k2 = newKey();
  const server = clusterServer(host!, { bootstrapExpect: 1, extraArgs: ['-encrypt', k1] });
  after(async () => {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  });

  const fileKeys = (pool: 'local' | 'remote') =>
    JSON.parse(readFileSync(join(server.dataDir, 'serf', `${pool}.keyring`), 'utf8')) as string[];

  test('-encrypt starts the files; rotations rewrite them; a restart loads them over -encrypt', async () => {
    await server.start();
    assert.deepEqual(fileKeys('local'), [k1]);
    assert.deepEqual(fileKeys('remote'), [k1]);
    const install = await api(server.httpAddr, 'POST', '/v1/operator/keyring', { Key: k2 });
    assert.equal(install.status, 200, install.text);
    const use = await api(server.httpAddr, 'PUT', '/v1/operator/keyring', { Key: k2 });
    assert.equal(use.status, 200, use.text);
    assert.deepEqual(fileKeys('local'), [k2, k1], 'the primary first');
    assert.deepEqual(fileKeys('remote'), [k2, k1]);

    await server.stop();
    // Restarted with a key the files do not hold: the files win, and the agent says so.
    const agent = await startAgent(host!, [
      '-server',
      '-data-dir',
      server.dataDir,
      '-bootstrap-expect',
      '1',
      '-encrypt',
      newKey(),
    ]);
    try {
      assert.match(agent.output(), /keyring doesn't include key provided with -encrypt, using keyring/);
      for (const pool of await list(agent)) {
        assert.deepEqual(pool.Keys, { [k1]: 1, [k2]: 1 });
        assert.deepEqual(pool.PrimaryKeys, { [k2]: 1 });
      }
    } finally {
      await agent.stop();
    }
  });
});
