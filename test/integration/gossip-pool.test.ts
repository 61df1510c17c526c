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

// Tribune's gossip pool (SWIM core + serf layer on real sockets) with a real `serf agent`: each joins the
// other, sees the other alive, failed after a crash, left after a graceful leave, and serf's user events;
// with a shared key, and a mismatched key refused.

const skip = missingPeer('serf', ['serf', 'version']);

interface SerfMemberJson {
  name: string;
  status: string;
  tags: Record<string, string>;
}

const serfMembers = async (serf: SerfAgent) =>
  (JSON.parse(await serf.cli('members', '-format=json')) as { members: SerfMemberJson[] }).members;

function pool(name: string, keyring?: Keyring) {
  const host = randomLoopback();
  const events: SerfEvent[] = [];
  const gossip = new GossipPool({
    name,
    bindAddr: host,
    bindPort: 0,
    tags: { role: 'node', dc: 'dc1' },
    // memberlist's local-network timings keep failure detection within a test's patience.
    config: { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, suspicionMult: 2 },
    keyring,
    logger: pino({ level: 'silent' }),
  });
  gossip.onEvent((event) => events.push(event));
  return { gossip, host, events };
}

const statusOf = (gossip: GossipPool, name: string) => gossip.members().find((m) => m.name === name)?.status;

describe('the gossip pool with a real serf agent', { skip, timeout: 120_000 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup) await step();
  });

  test('serf joins us: both list each other alive, with tags', async () => {
    const ours = pool('tribune-a');
    await ours.gossip.start();
    cleanup.push(() => ours.gossip.stop());
    const serf = await startSerf('serf-a', [`-join=${ours.host}:${ours.gossip.port}`, '-tag', 'role=worker']);
    cleanup.push(() => serf.stop());
    await eventually('serf alive in our pool', async () =>
      statusOf(ours.gossip, 'serf-a') === 'alive' ? true : undefined,
    );
    assert.deepEqual(ours.gossip.members().find((m) => m.name === 'serf-a')!.tags, { role: 'worker' });
    const seen = await serfMembers(serf);
    const us = seen.find((m) => m.name === 'tribune-a');
    assert.equal(us?.status, 'alive');
    assert.equal(us?.tags.role, 'node');
  });

  test('we join serf; serf user events reach us; a graceful leave shows left in serf', async () => {
    const serf = await startSerf('serf-b', []);
    cleanup.push(() => serf.stop());
    const ours = pool('tribune-b');
    await ours.gossip.start();
    assert.equal(await ours.gossip.join([`${serf.host}:${serf.port}`], 8301), 1);
    await eventually('serf alive in our pool', async () =>
      statusOf(ours.gossip, 'serf-b') === 'alive' ? true : undefined,
    );
    await serf.cli('event', 'deploy', 'v42');
    await eventually('the user event', async () =>
      ours.events.some(
        (e) => e.type === 'user' && e.name === 'deploy' && Buffer.from(e.payload).toString() === 'v42',
      )
        ? true
        : undefined,
    );
    await ours.gossip.leave();
    await eventually('serf sees us left', async () =>
      (await serfMembers(serf)).find((m) => m.name === 'tribune-b')?.status === 'left' ? true : undefined,
    );
  });

  test('a crashed Tribune node shows failed in serf; a killed serf shows failed here', async () => {
    const serf = await startSerf('serf-c', []);
    const ours = pool('tribune-c');
    const witness = pool('tribune-witness');
    await ours.gossip.start();
    await witness.gossip.start();
    cleanup.push(() => witness.gossip.stop());
    await ours.gossip.join([`${serf.host}:${serf.port}`], 8301);
    await witness.gossip.join([`${serf.host}:${serf.port}`], 8301);
    await eventually('serf sees both', async () =>
      (await serfMembers(serf)).filter((m) => m.status === 'alive').length === 3 ? true : undefined,
    );
    await ours.gossip.stop(); // no leave: it just stops answering, as after kill -9
    await eventually(
      'serf marks the silent node failed',
      async () =>
        (await serfMembers(serf)).find((m) => m.name === 'tribune-c')?.status === 'failed' ? true : undefined,
      30_000,
    );
    await serf.stop();
    await eventually(
      'our witness marks serf failed',
      async () => (statusOf(witness.gossip, 'serf-c') === 'failed' ? true : undefined),
      30_000,
    );
    assert.ok(witness.events.some((e) => e.type === 'member-failed' && e.member.name === 'serf-c'));
  });

  test('with a shared key gossip works; a node with another key cannot join', async () => {
    const key = randomBytes(32);
    const serf = await startSerf('serf-d', [`-encrypt=${key.toString('base64')}`]);
    cleanup.push(() => serf.stop());
    const ours = pool('tribune-d', Keyring.fromBase64(key.toString('base64')));
    await ours.gossip.start();
    cleanup.push(() => ours.gossip.stop());
    assert.equal(await ours.gossip.join([`${serf.host}:${serf.port}`], 8301), 1);
    await eventually('serf sees us alive', async () =>
      (await serfMembers(serf)).find((m) => m.name === 'tribune-d')?.status === 'alive' ? true : undefined,
    );
    const stranger = pool('tribune-stranger', Keyring.fromBase64(randomBytes(32).toString('base64')));
    await stranger.gossip.start();
    cleanup.push(() => stranger.gossip.stop());
    assert.equal(await stranger.gossip.join([`${serf.host}:${serf.port}`], 8301), 0);
    assert.ok(!(await serfMembers(serf)).some((m) => m.name === 'tribune-stranger'));
  });
});
