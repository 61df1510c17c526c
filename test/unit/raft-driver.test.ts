import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { resolveOptions } from '../../src/raft/core/config.ts';
import { decodeMembership } from '../../src/raft/core/membership.ts';
import type { Message } from '../../src/raft/core/messages.ts';
import type { Entry } from '../../src/raft/core/types.ts';
import { AddressBook, membershipOf } from '../../src/raft/driver/address-book.ts';
import { bootstrapEntries } from '../../src/raft/driver/bootstrap.ts';
import { ConfigIndex } from '../../src/raft/driver/config-index.ts';
import { applyEntry, checkForwarded } from '../../src/raft/driver/fsm.ts';
import { coreOptions, DEFAULT_TIMING } from '../../src/raft/driver/options.ts';
import { decodePayload, encodePayload, type Payload } from '../../src/raft/driver/payload.ts';
import { SnapshotFiles } from '../../src/raft/driver/snapshot-files.ts';
import { Ticker } from '../../src/raft/driver/ticker.ts';
import { AppliedWaiters, LEADERSHIP_LOST, Proposals } from '../../src/raft/driver/waiters.ts';
import {
  checkBatch,
  checkConfiguration,
  checkMessage,
  checkSnapshotHeader,
  WireError,
} from '../../src/raft/driver/wire.ts';
import { SnapshotStore } from '../../src/raft/storage/snapshot-store.ts';
import { encodeValue } from '../../src/state/codec.ts';
import type { KVCommand } from '../../src/state/commands.ts';
import { SnapshotError } from '../../src/state/snapshot.ts';
import { StateStore } from '../../src/state/store.ts';

// The Raft driver's pure parts: entry payloads, addresses, what peers may send, the tick clock, and the
// bookkeeping of proposals and configuration indexes. The driver itself runs in
// test/integration/raft-driver.test.ts.

const bytes = (text: string) => new TextEncoder().encode(text);
const entry = (index: number, term: number, payload?: Payload, type = 'command'): Entry => ({
  index,
  term,
  type,
  data: payload ? encodePayload(payload) : new Uint8Array(),
});
const kv = (key: string): KVCommand => ({
  type: 'kv',
  now: 1,
  op: { Verb: 'set', Key: key, Value: bytes('v'), Flags: 0, Index: 0, Session: '' },
});

describe('entry payloads', () => {
  test('round-trip commands, restores and address records', () => {
    const payloads: Payload[] = [
      { kind: 'command', bytes: bytes('cmd') },
      { kind: 'restore', bytes: new Uint8Array([1, 2, 3]) },
      { kind: 'addresses', servers: [{ id: 's1', address: '127.0.0.1:8300' }] },
    ];
    for (const payload of payloads) assert.deepEqual(decodePayload(encodePayload(payload)), payload);
  });

  test('refuse data the driver did not write', () => {
    assert.throws(() => decodePayload(new Uint8Array([9, 1])), /unknown raft payload tag 9/);
    assert.throws(() => decodePayload(new Uint8Array()), /unknown raft payload tag/);
    const badAddresses = new Uint8Array([3, ...encode([['s1']])]);
    assert.throws(() => decodePayload(badAddresses), /malformed pair/);
  });
});

describe('address book', () => {
  test('addresses from the log win over those seen on messages; its own is fixed', () => {
    const book = new AddressBook('s1', '10.0.0.1:8300');
    book.observe('s2', '10.0.0.2:9999');
    assert.equal(book.get('s2'), '10.0.0.2:9999');
    book.scan([entry(1, 1, { kind: 'addresses', servers: [{ id: 's2', address: '10.0.0.2:8300' }] })]);
    assert.equal(book.get('s2'), '10.0.0.2:8300');
    book.observe('s2', '10.0.0.2:7777');
    assert.equal(book.get('s2'), '10.0.0.2:8300');
    book.observe('s1', '10.9.9.9:1');
    book.scan([entry(2, 1, { kind: 'addresses', servers: [{ id: 's1', address: '10.9.9.9:1' }] })]);
    assert.equal(book.get('s1'), '10.0.0.1:8300');
  });

  test('a snapshot replaces what the log recorded; members come out voters first', () => {
    const book = new AddressBook('s1', 'a:1');
    book.scan([entry(1, 1, { kind: 'addresses', servers: [{ id: 'old', address: 'o:1' }] })]);
    book.scan([
      entry(2, 1, { kind: 'command', bytes: encodeValue(kv('k')) }),
      entry(3, 1, undefined, 'noop'),
    ]);
    book.reset([
      { id: 's3', address: 'c:3', voter: false },
      { id: 's2', address: 'b:2', voter: true },
    ]);
    assert.equal(book.get('old'), undefined);
    const members = book.members({ voters: ['s1', 's2'], learners: ['s3', 'nobody'] });
    assert.deepEqual(members, [
      { id: 's1', address: 'a:1', voter: true },
      { id: 's2', address: 'b:2', voter: true },
      { id: 's3', address: 'c:3', voter: false },
      { id: 'nobody', address: '', voter: false },
    ]);
    assert.deepEqual(membershipOf(members), { voters: ['s1', 's2'], learners: ['s3', 'nobody'] });
  });
});

describe('bootstrap', () => {
  test('writes the addresses, then the membership, in term 1', () => {
    const members = [
      { id: 's1', address: '127.0.0.1:8300', voter: true },
      { id: 's2', address: '127.0.0.2:8300', voter: false },
    ];
    const [addresses, membership] = bootstrapEntries(members);
    assert.deepEqual(decodePayload(addresses!.data), {
      kind: 'addresses',
      servers: members.map(({ id, address }) => ({ id, address })),
    });
    assert.deepEqual([membership!.index, membership!.term, membership!.type], [2, 1, 'membership']);
    assert.deepEqual(decodeMembership(membership!.data), { voters: ['s1'], learners: ['s2'] });
  });

  test('refuses configurations that cannot form a cluster', () => {
    assert.throws(() => bootstrapEntries([]), /at least one voter/);
    assert.throws(() => bootstrapEntries([{ id: 's1', address: 'a:1', voter: false }]), /at least one voter/);
    const twice = { id: 's1', address: '127.0.0.1:8300', voter: true };
    assert.throws(() => bootstrapEntries([twice, twice]), /s1 is listed twice/);
    assert.throws(() => bootstrapEntries([{ id: 's1', address: 'nowhere', voter: true }]), /invalid address/);
  });
});

describe('messages from peers', () => {
  const envelope = { from: 's1', to: 's2', term: 3 };
  const valid: Message[] = [
    { ...envelope, type: 'vote', lastLogIndex: 4, lastLogTerm: 2, transfer: false },
    { ...envelope, type: 'pre-vote-response', granted: true },
    {
      ...envelope,
      type: 'append',
      prevIndex: 4,
      prevTerm: 2,
      entries: [entry(5, 3, { kind: 'command', bytes: bytes('x') })],
      commit: 4,
      round: 7,
    },
    { ...envelope, type: 'append-response', success: false, index: 4, hintIndex: 2, hintTerm: 1, round: 7 },
    { ...envelope, type: 'heartbeat', commit: 4, round: 8 },
    { ...envelope, type: 'heartbeat-response', round: 8 },
    { ...envelope, type: 'timeout-now' },
  ];

  test('every kind passes as sent, without extra fields', () => {
    for (const message of valid) {
      assert.deepEqual(checkMessage({ ...message, extra: 'dropped' }), message);
    }
  });

  test('a bad field is named', () => {
    assert.throws(() => checkMessage({ ...valid[0], lastLogIndex: -1 }), /bad lastLogIndex/);
    assert.throws(() => checkMessage({ ...valid[4], commit: 1.5 }), /bad commit/);
    assert.throws(
      () => checkMessage({ ...valid[2], entries: [{ index: 1, term: 1, type: 'c', data: 'x' }] }),
      {
        message: 'raft append message has a bad entries',
      },
    );
    assert.throws(() => checkMessage({ ...valid[6], to: '' }), /bad to/);
    assert.throws(() => checkMessage({ ...envelope, type: 'gossip' }), /no known type/);
  });

  test('install-snapshot comes only on its stream, with a header that describes it', () => {
    const install = {
      ...envelope,
      type: 'install-snapshot',
      meta: { index: 10, term: 2, membership: { voters: ['s1'], learners: [] } },
      handle: '',
      round: 1,
    };
    assert.throws(() => checkBatch({ from: 'a:1', messages: [install] }), /its own stream/);
    const snapshot = {
      index: 10,
      term: 2,
      membership: [{ id: 's1', address: 'a:1', voter: true }],
      size: 3,
      sha256: 'a'.repeat(64),
    };
    assert.equal(checkSnapshotHeader({ from: 'a:1', message: install, snapshot }).snapshot.index, 10);
    assert.throws(
      () => checkSnapshotHeader({ from: 'a:1', message: install, snapshot: { ...snapshot, index: 11 } }),
      /another snapshot/,
    );
  });

  test('anything at all is either a message or a WireError', () => {
    fc.assert(
      fc.property(fc.anything(), fc.constantFrom(...valid), fc.string(), (junk, base, field) => {
        for (const value of [junk, { ...base, [field]: junk }, { from: 'a:1', messages: [junk] }]) {
          try {
            checkBatch(value);
          } catch (err) {
            assert.ok(err instanceof WireError, String(err));
          }
        }
      }),
    );
  });

  test('a configuration from the leader is checked server by server', () => {
    const server = {
      id: 's1',
      address: 'a:1',
      voter: true,
      leader: true,
      lastIndex: 5,
      lastTerm: 2,
      lastContactMs: 0,
    };
    assert.deepEqual(checkConfiguration({ index: 2, servers: [{ ...server, more: 1 }] }), {
      index: 2,
      servers: [server],
    });
    assert.throws(() => checkConfiguration({ index: 2, servers: [{ ...server, lastTerm: 'x' }] }), WireError);
  });
});

describe('timing', () => {
  test("the seed's timings in 10 ms ticks, with a lease inside the election timeout", () => {
    const options = coreOptions(DEFAULT_TIMING);
    assert.deepEqual(options, { heartbeatTicks: 5, electionTicks: 15, electionMaxTicks: 30, leaseTicks: 10 });
    assert.doesNotThrow(() => resolveOptions(options));
    assert.deepEqual(
      coreOptions({ tickMs: 100, heartbeatMs: 10, electionMinMs: 1000, electionMaxMs: 2000 }),
      {
        heartbeatTicks: 1,
        electionTicks: 10,
        electionMaxTicks: 20,
        leaseTicks: 6,
      },
    );
  });

  test('the ticker delivers one tick per elapsed interval, catching up after a stall', () => {
    let now = 1000;
    const delivered: number[] = [];
    const ticker = new Ticker(
      10,
      (count) => delivered.push(count),
      () => now,
    );
    ticker.start();
    ticker.stop();
    now += 9;
    ticker.fire();
    now += 1;
    ticker.fire();
    now += 75;
    ticker.fire();
    ticker.fire();
    assert.deepEqual(delivered, [1, 7]);
  });
});

describe('proposals and waiters', () => {
  test('a proposal settles with its entry, and fails if another term took its slot', async () => {
    const proposals = new Proposals<string>();
    const kept = proposals.add(5, 2);
    const lost = proposals.add(6, 2);
    proposals.applied(entry(5, 2), 'five');
    proposals.applied(entry(6, 3), 'six');
    assert.equal(await kept, 'five');
    await assert.rejects(lost, { message: LEADERSHIP_LOST });
  });

  test('a rewritten log fails the proposals it replaced or cut off, and keeps the rest', async () => {
    const proposals = new Proposals<string>();
    const before = proposals.add(4, 2);
    const same = proposals.add(5, 2);
    const replaced = proposals.add(6, 2);
    const cut = proposals.add(7, 2);
    proposals.overwritten([entry(5, 2), entry(6, 3)]);
    await assert.rejects(replaced, { message: LEADERSHIP_LOST });
    await assert.rejects(cut, { message: LEADERSHIP_LOST });
    proposals.applied(entry(4, 2), 'four');
    proposals.applied(entry(5, 2), 'five');
    assert.deepEqual(await Promise.all([before, same]), ['four', 'five']);
    const covered = proposals.add(8, 3);
    proposals.failThrough(8);
    await assert.rejects(covered, { message: LEADERSHIP_LOST });
  });

  test('waiters wake once the applied index reaches theirs', async () => {
    const waiters = new AppliedWaiters();
    const woken: number[] = [];
    const waits = [3, 5, 9].map((index) => waiters.wait(index, 2).then(() => woken.push(index)));
    waiters.notify(5);
    await Promise.all(waits.slice(0, 2));
    assert.deepEqual(woken, [3, 5]);
    waiters.failAll(new Error('stopped'));
    await assert.rejects(waits[2]!, { message: 'stopped' });
    await waiters.wait(1, 2);
  });
});

describe('configuration index', () => {
  test('follows membership entries, falls back when the tail is cut, and restarts at a snapshot', () => {
    const config = new ConfigIndex();
    const membership = (index: number) => entry(index, 1, undefined, 'membership');
    config.written([entry(1, 1), membership(2)], 0);
    assert.equal(config.current, 2);
    config.written([membership(5), entry(6, 1), membership(7)], 5);
    assert.equal(config.current, 7);
    config.written([entry(7, 2)], 5);
    assert.equal(config.current, 5);
    config.written([entry(6, 3)], 5);
    assert.equal(config.current, 5, 'a committed configuration is never cut');
    config.reset(40);
    assert.equal(config.current, 40);
  });
});

describe('state machine entries', () => {
  test('commands apply at their index; restores replace the state; other entries change nothing', () => {
    const store = new StateStore();
    assert.deepEqual(applyEntry(store, entry(3, 1, { kind: 'command', bytes: encodeValue(kv('a')) })), {
      ok: true,
      value: true,
    });
    assert.equal(store.db.kvs.get('a')?.ModifyIndex, 3);
    const saved = store.snapshot();
    applyEntry(store, entry(4, 1, { kind: 'command', bytes: encodeValue(kv('b')) }));
    assert.deepEqual(applyEntry(store, entry(5, 1, { kind: 'restore', bytes: saved })), {
      ok: true,
      value: null,
    });
    assert.equal(store.db.kvs.get('b'), undefined);
    assert.deepEqual(applyEntry(store, entry(6, 1, undefined, 'noop')), { ok: true, value: null });
    assert.deepEqual(
      applyEntry(store, entry(7, 1, { kind: 'addresses', servers: [{ id: 's', address: 'a:1' }] })),
      {
        ok: true,
        value: null,
      },
    );
  });

  test('undecodable payloads are refusals, the same on every server', () => {
    const store = new StateStore();
    const garbage = { ...entry(1, 1), data: new Uint8Array([1, 0xc1]) };
    const outcome = applyEntry(store, garbage);
    assert.equal(outcome.ok, false);
    assert.match((outcome as { error: string }).error, /undecodable command/);
    assert.equal(applyEntry(store, { ...entry(2, 1), data: new Uint8Array([7]) }).ok, false);
  });

  test('only well-formed commands and restores may be forwarded to the leader', () => {
    assert.doesNotThrow(() =>
      checkForwarded(encodePayload({ kind: 'command', bytes: encodeValue(kv('a')) })),
    );
    assert.throws(
      () => checkForwarded(encodePayload({ kind: 'addresses', servers: [] })),
      /only commands and restores/,
    );
    assert.throws(
      () => checkForwarded(encodePayload({ kind: 'command', bytes: encodeValue(42) })),
      WireError,
    );
    assert.throws(
      () => checkForwarded(encodePayload({ kind: 'restore', bytes: encodeValue({ version: 99 }) })),
      SnapshotError,
    );
  });
});

describe('snapshots streamed in', () => {
  const members = [{ id: 's1', address: 'a:1', voter: true }];
  const header = (data: Uint8Array, index = 10) => ({
    index,
    term: 2,
    membership: members,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  });
  async function* chunks(...parts: Uint8Array[]) {
    yield* parts;
  }

  test('are kept only when size and checksum match what the leader stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raft-driver-files-'));
    try {
      const files = new SnapshotFiles(await SnapshotStore.open(dir));
      const data = bytes('the whole state');
      await assert.rejects(files.receive(header(data), chunks(bytes('the whole'))), /does not match/);
      await assert.rejects(files.receive(header(data), chunks(data, bytes('!'))), /longer than/);
      const tampered = bytes('the whole statE');
      await assert.rejects(files.receive(header(data), chunks(tampered)), /does not match/);
      assert.equal(files.latest(), null);

      const id = await files.receive(header(data), chunks(data.subarray(0, 4), data.subarray(4)));
      assert.equal(files.latest()?.id, id);
      assert.deepEqual(new Uint8Array((await files.readAll(id)).data), data);
      assert.equal(await files.receive(header(data), chunks(data)), id, 'the same snapshot again is drained');
      assert.equal(await files.save({ index: 9, term: 2, membership: members }, data), null);
      assert.equal((await files.find(10, 2))?.meta.id, id);
      assert.equal(await files.find(10, 3), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
