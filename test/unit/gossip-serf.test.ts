import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Member } from '../../src/gossip/core/types.ts';
import { DEFAULT_VSN } from '../../src/gossip/messages.ts';
import { Serf } from '../../src/gossip/serf/serf.ts';
import { decodeSerfMessage, encodeSerfMessage } from '../../src/gossip/wire/serf-messages.ts';
import { encodeSerfTags } from '../../src/gossip/wire/serf-tags.ts';

// serf's rules over memberlist events: statuses ordered by Lamport-stamped intents, user events
// de-duplicated, push/pull state merged, members reaped after their timeouts.

const node = (name: string, tags: Record<string, string> = {}): Member => ({
  name,
  addr: new Uint8Array([10, 0, 0, 1]),
  port: 8301,
  meta: encodeSerfTags(tags),
  incarnation: 1,
  state: 'alive',
  stateChange: 0,
  vsn: DEFAULT_VSN,
});

const fresh = (name = 'self') => new Serf({ name, tags: { role: 'node' }, numNodes: () => 3 });
const status = (serf: Serf, name: string) => serf.member(name)?.status;
const sent = (serf: Serf) => serf.getBroadcasts(0, 64 * 1024).map((bytes) => decodeSerfMessage(bytes));
const message = (m: Parameters<typeof encodeSerfMessage>[0]) => encodeSerfMessage(m);

describe('serf layer', () => {
  test('memberlist joins make alive members with their tags', () => {
    const serf = fresh();
    serf.handle({ type: 'join', member: node('a', { role: 'consul', dc: 'dc1' }) }, 0);
    assert.equal(status(serf, 'a'), 'alive');
    assert.deepEqual(serf.member('a')!.tags, { role: 'consul', dc: 'dc1' });
    assert.deepEqual(
      serf.takeEvents().map((e) => e.type),
      ['member-join'],
    );
  });

  test('a leave intent then memberlist dropping the node makes it left; without the intent it failed', () => {
    const serf = fresh();
    serf.handle({ type: 'join', member: node('a') }, 0);
    serf.handle({ type: 'join', member: node('b') }, 0);
    serf.handle(
      { type: 'user', body: message({ type: 'leave', body: { LTime: 5, Node: 'a', Prune: false } }) },
      1,
    );
    assert.equal(status(serf, 'a'), 'leaving');
    serf.handle({ type: 'fail', member: node('a') }, 2);
    serf.handle({ type: 'fail', member: node('b') }, 2);
    assert.equal(status(serf, 'a'), 'left');
    assert.equal(status(serf, 'b'), 'failed');
  });

  test('an older intent than the status time is ignored; a newer join undoes leaving', () => {
    const serf = fresh();
    serf.handle({ type: 'join', member: node('a') }, 0);
    serf.handle(
      { type: 'user', body: message({ type: 'leave', body: { LTime: 5, Node: 'a', Prune: false } }) },
      0,
    );
    serf.handle({ type: 'user', body: message({ type: 'join', body: { LTime: 4, Node: 'a' } }) }, 0);
    assert.equal(status(serf, 'a'), 'leaving');
    serf.handle({ type: 'user', body: message({ type: 'join', body: { LTime: 6, Node: 'a' } }) }, 0);
    assert.equal(status(serf, 'a'), 'alive');
    assert.ok(serf.clock.time() > 6, 'the member clock witnessed the intents');
  });

  test('a leave intent about this node while it is not leaving is refuted with a newer join', () => {
    const serf = fresh('self');
    serf.handle({ type: 'join', member: node('self') }, 0);
    serf.handle(
      { type: 'user', body: message({ type: 'leave', body: { LTime: 9, Node: 'self', Prune: false } }) },
      0,
    );
    assert.equal(status(serf, 'self'), 'alive');
    const [refutation] = sent(serf);
    assert.equal(refutation!.type, 'join');
    assert.ok(refutation!.type === 'join' && refutation!.body.LTime > 9);
  });

  test('intents about members memberlist has not reported yet apply when it does', () => {
    const serf = fresh();
    serf.handle(
      { type: 'user', body: message({ type: 'leave', body: { LTime: 3, Node: 'late', Prune: false } }) },
      0,
    );
    serf.handle({ type: 'join', member: node('late') }, 1);
    assert.equal(status(serf, 'late'), 'leaving');
  });

  test('user events are delivered once and rebroadcast once', () => {
    const serf = fresh();
    const event = message({
      type: 'userEvent',
      body: { LTime: 2, Name: 'deploy', Payload: new Uint8Array([1]), CC: false },
    });
    serf.handle({ type: 'user', body: event }, 0);
    serf.handle({ type: 'user', body: event }, 0);
    const delivered = serf.takeEvents().filter((e) => e.type === 'user');
    assert.equal(delivered.length, 1);
    assert.equal(sent(serf).length, 1);
  });

  test('a local user event is delivered here and broadcast; an oversized one is refused', () => {
    const serf = fresh();
    serf.userEvent('restart', new TextEncoder().encode('web'), false);
    assert.equal(serf.takeEvents()[0]!.type, 'user');
    assert.equal(sent(serf)[0]!.type, 'userEvent');
    assert.throws(
      () => serf.userEvent('big', new Uint8Array(600), false),
      /exceeds configured limit of 512 bytes/,
    );
  });

  test('push/pull state carries statuses, left members and events to another node', () => {
    const a = fresh('a');
    a.handle({ type: 'join', member: node('a') }, 0);
    a.handle({ type: 'join', member: node('gone') }, 0);
    a.handle(
      { type: 'user', body: message({ type: 'leave', body: { LTime: 4, Node: 'gone', Prune: false } }) },
      0,
    );
    a.handle({ type: 'fail', member: node('gone') }, 1);
    a.userEvent('hello', new Uint8Array(), false);

    const b = fresh('b');
    b.handle({ type: 'join', member: node('gone') }, 0);
    b.handle({ type: 'remoteState', join: true, body: a.localState() }, 2);
    b.handle({ type: 'fail', member: node('gone') }, 3);
    assert.equal(status(b, 'gone'), 'left');
    assert.ok(b.takeEvents().some((e) => e.type === 'user' && e.name === 'hello'));
    assert.ok(b.eventClock.time() >= a.eventClock.time() - 1);
  });

  test('force-leave turns a failed member left; prune forgets it', () => {
    const serf = fresh();
    serf.handle({ type: 'join', member: node('a') }, 0);
    assert.equal(serf.forceLeave('a', false, 0), false, 'an alive member is not forced out');
    serf.handle({ type: 'fail', member: node('a') }, 1);
    assert.equal(serf.forceLeave('a', false, 2), true);
    assert.equal(status(serf, 'a'), 'left');
    assert.equal(serf.forceLeave('a', true, 3), true);
    assert.equal(serf.member('a'), undefined);
  });

  test('failed members are reaped after the reconnect timeout, left ones after the tombstone timeout', () => {
    const serf = new Serf({
      name: 'self',
      tags: {},
      numNodes: () => 3,
      config: { reconnectTimeoutMs: 1000, tombstoneTimeoutMs: 5000 },
    });
    serf.handle({ type: 'join', member: node('f') }, 0);
    serf.handle({ type: 'join', member: node('l') }, 0);
    serf.handle({ type: 'fail', member: node('f') }, 0);
    serf.handle({ type: 'leave', member: node('l') }, 0);
    serf.reap(999);
    assert.ok(serf.member('f'));
    serf.reap(1000);
    assert.equal(serf.member('f'), undefined);
    assert.ok(serf.member('l'));
    serf.reap(5000);
    assert.equal(serf.member('l'), undefined);
    assert.equal(serf.takeEvents().filter((e) => e.type === 'member-reap').length, 2);
  });
});
