import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { GossipPool } from '../../src/gossip/pool.ts';
import type { SerfEvent } from '../../src/gossip/serf/types.ts';
import { Keyring } from '../../src/gossip/wire/index.ts';
import { randomLoopback } from '../helpers/dev-agent.ts';
import { eventually } from '../helpers/http.ts';
import { missingPeer } from '../helpers/peers.ts';
import { type SerfAgent, startSerf } from '../helpers/serf.ts';

// Key rotation across a real `serf agent` and Tribune gossip pools, by serf's key queries both ways: Tribune
// installs a second key (serf lists it), makes it primary and removes the first, with gossip working at
// every step; serf's own `serf keys` commands are applied by Tribune and its answers counted by serf.

const skip = missingPeer('serf', ['serf', 'version']);

const newKey = () => randomBytes(32).toString('base64');
const b64 = (key: Uint8Array) => Buffer.from(key).toString('base64');

function pool(name: string, keyring: Keyring) {
  const host = randomLoopback();
  const events: SerfEvent[] = [];
  const gossip = new GossipPool({
    name,
    bindAddr: host,
    bindPort: 0,
    tags: { role: 'node' },
    // memberlist's local-network timings; the query timeout follows the gossip interval (50 ms × 16).
    config: { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, suspicionMult: 2 },
    keyring,
    logger: pino({ level: 'silent' }),
  });
  gossip.onEvent((event) => events.push(event));
  return { gossip, host, events, keyring };
}

interface SerfMemberJson {
  name: string;
  status: string;
}
const serfMembers = async (serf: SerfAgent) =>
  (JSON.parse(await serf.cli('members', '-format=json')) as { members: SerfMemberJson[] }).members;
const aliveInSerf = async (serf: SerfAgent, name: string) =>
  (await serfMembers(serf)).find((m) => m.name === name)?.status === 'alive' ? true : undefined;

/** `serf keys -list`: each key with its count, as "<key> [<n>/<total>]". */
async function serfKeyCounts(serf: SerfAgent): Promise<Record<string, string>> {
  const out = await serf.cli('keys', '-list');
  const counts: Record<string, string> = {};
  for (const match of out.matchAll(/^\s*(\S+=*)\s+\[(\d+\/\d+)\]\s*$/gm)) counts[match[1]!] = match[2]!;
  return counts;
}

describe('gossip key rotation with a real serf agent', { skip, timeout: 180_000 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  test('Tribune installs, uses and removes keys across the pool; serf follows and gossip keeps working', async () => {
    const k1 = newKey();
    const k2 = newKey();
    const serf = await startSerf('serf-keys', [`-encrypt=${k1}`]);
    cleanup.push(() => serf.stop());
    const ours = pool('tribune-keys', Keyring.fromBase64(k1));
    await ours.gossip.start();
    cleanup.push(() => ours.gossip.stop());
    assert.equal(await ours.gossip.join([`${serf.host}:${serf.port}`], 7946), 1);
    await eventually('serf sees us alive', () => aliveInSerf(serf, 'tribune-keys'));
    await eventually('we see serf alive', async () =>
      ours.gossip.members().find((m) => m.name === 'serf-keys')?.status === 'alive' ? true : undefined,
    );

    // The list reaches both members; serf's answer names its keys.
    const listed = await ours.gossip.keyOperation('list', '');
    assert.equal(listed.error, undefined, JSON.stringify(listed.response));
    assert.equal(listed.response.numNodes, 2);
    assert.deepEqual(listed.response.keys, { [k1]: 2 });

    // Install k2 from Tribune: serf's own key list shows it on both members.
    const installed = await ours.gossip.keyOperation('install', k2);
    assert.equal(installed.error, undefined, JSON.stringify(installed.response));
    assert.equal(installed.response.numResp, 2);
    assert.deepEqual(ours.keyring.keys.map(b64), [k1, k2]);
    assert.deepEqual(await serfKeyCounts(serf), { [k1]: '2/2', [k2]: '2/2' });

    // Make k2 primary everywhere, then remove k1.
    const used = await ours.gossip.keyOperation('use', k2);
    assert.equal(used.error, undefined, JSON.stringify(used.response));
    assert.equal(b64(ours.keyring.primaryKey), k2);
    const refused = await ours.gossip.keyOperation('remove', k2);
    assert.equal(refused.error, '2/2 nodes reported failure');
    assert.deepEqual(refused.response.messages, {
      'serf-keys': 'Removing the primary key is not allowed',
      'tribune-keys': 'Removing the primary key is not allowed',
    });
    const removed = await ours.gossip.keyOperation('remove', k1);
    assert.equal(removed.error, undefined, JSON.stringify(removed.response));
    assert.deepEqual(ours.keyring.keys.map(b64), [k2]);
    assert.deepEqual(await serfKeyCounts(serf), { [k2]: '2/2' });

    // Gossip still works: serf's user events reach us, and serf keeps us alive.
    await serf.cli('event', 'after-rotation', 'ok');
    await eventually('serf event after rotation', async () =>
      ours.events.some((e) => e.type === 'user' && e.name === 'after-rotation') ? true : undefined,
    );
    assert.equal(await aliveInSerf(serf, 'tribune-keys'), true);
    // serf encrypts with k2 now: a node holding only k2 joins, a node holding only k1 cannot.
    const late = pool('tribune-k2-only', Keyring.fromBase64(k2));
    await late.gossip.start();
    cleanup.push(() => late.gossip.stop());
    assert.equal(await late.gossip.join([`${serf.host}:${serf.port}`], 7946), 1);
    await eventually('serf sees the k2-only node', () => aliveInSerf(serf, 'tribune-k2-only'));
    const stale = pool('tribune-k1-only', Keyring.fromBase64(k1));
    await stale.gossip.start();
    cleanup.push(() => stale.gossip.stop());
    assert.equal(await stale.gossip.join([`${serf.host}:${serf.port}`], 7946), 0);

    // serf's own key commands: applied by both Tribune pools, which answer serf's queries.
    const k3 = newKey();
    await serf.cli('keys', `-install=${k3}`);
    assert.deepEqual(ours.keyring.keys.map(b64), [k2, k3]);
    assert.deepEqual(late.keyring.keys.map(b64), [k2, k3]);
    assert.deepEqual(await serfKeyCounts(serf), { [k2]: '3/3', [k3]: '3/3' });
    await serf.cli('keys', `-use=${k3}`);
    assert.equal(b64(ours.keyring.primaryKey), k3);
    await serf.cli('keys', `-remove=${k2}`);
    assert.deepEqual(ours.keyring.keys.map(b64), [k3]);
    const final = await ours.gossip.keyOperation('list', '');
    assert.equal(final.error, undefined, JSON.stringify(final.response));
    assert.deepEqual(final.response.keys, { [k3]: 3 });
    await serf.cli('event', 'after-serf-rotation', 'ok');
    await eventually('serf event after serf rotated', async () =>
      ours.events.some((e) => e.type === 'user' && e.name === 'after-serf-rotation') ? true : undefined,
    );
  });

  test('serf pings Tribune with a query and gets its ack', async () => {
    const key = newKey();
    const serf = await startSerf('serf-ping', [`-encrypt=${key}`]);
    cleanup.push(() => serf.stop());
    const ours = pool('tribune-ping', Keyring.fromBase64(key));
    await ours.gossip.start();
    cleanup.push(() => ours.gossip.stop());
    await ours.gossip.join([`${serf.host}:${serf.port}`], 7946);
    await eventually('serf sees us alive', () => aliveInSerf(serf, 'tribune-ping'));
    // `serf reachability` sends _serf_ping asking for acks and names the members that did not ack.
    const out = await serf.cli('reachability');
    assert.match(out, /Successfully contacted all live nodes/);
    // And the other way: Tribune's query acked by serf.
    const result = await ours.gossip.query(
      '_serf_ping',
      new Uint8Array(),
      { requestAck: true },
      (r) => r.acks.length >= 2,
    );
    assert.deepEqual([...result.acks].sort(), ['serf-ping', 'tribune-ping']);
  });
});
