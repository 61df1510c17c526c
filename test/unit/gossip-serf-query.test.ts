import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Member } from '../../src/gossip/core/types.ts';
import { DEFAULT_VSN } from '../../src/gossip/messages.ts';
import {
  decodeNodeKeyResponse,
  encodeConflictResponse,
  encodeKeyRequest,
  encodeNodeKeyResponse,
  fitKeyList,
  KeyringMessages,
} from '../../src/gossip/serf/internal-query.ts';
import {
  decodeStdBase64,
  KeyManager,
  keyResponseError,
  type QueryRunner,
  tallyKeyResponses,
} from '../../src/gossip/serf/key-manager.ts';
import { readKeyringFile, setupPoolKeyring, writeKeyringFile } from '../../src/gossip/serf/keyring-file.ts';
import {
  defaultQueryTimeoutMs,
  QueryBuffer,
  type QueryResult,
  shouldProcessQuery,
} from '../../src/gossip/serf/query.ts';
import { type DirectMessage, Serf, type SerfOptions } from '../../src/gossip/serf/serf.ts';
import { decodeValue } from '../../src/gossip/wire/go-msgpack.ts';
import { Keyring } from '../../src/gossip/wire/keyring.ts';
import {
  decodeSerfMessage,
  encodeSerfFilter,
  encodeSerfMessage,
  type SerfQuery,
  SerfQueryFlag,
} from '../../src/gossip/wire/serf-messages.ts';
import { encodeSerfTags } from '../../src/gossip/wire/serf-tags.ts';

// serf's queries without sockets: timeouts as serf computes them, the query buffer's de-duplication, filters,
// acks and answers sent straight to the asker, relays, the internal queries (ping, conflict, the keyring
// ones) with serf's and memberlist's wording, and the key manager's tally.

const addrOf = (i: number) => new Uint8Array([10, 0, 0, i]);

function member(name: string, i: number, tags: Record<string, string> = {}): Member {
  return {
    name,
    addr: addrOf(i),
    port: 7946,
    meta: encodeSerfTags(tags),
    incarnation: 1,
    state: 'alive',
    stateChange: 0,
    vsn: DEFAULT_VSN,
  };
}

/** A seeded float in [0, 1) (xorshift), so query IDs and relay picks repeat. */
function seeded(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

interface Node {
  name: string;
  serf: Serf;
  index: number;
  keyring?: Keyring;
}

/** Serf instances that all know each other, and a router carrying their direct messages and broadcasts. */
function cluster(count: number, options: (i: number) => Partial<SerfOptions> = () => ({})) {
  const nodes: Node[] = [];
  for (let i = 1; i <= count; i++) {
    const extra = options(i);
    const serf = new Serf({
      name: `n${i}`,
      tags: { role: 'node', rack: i % 2 === 0 ? 'even' : 'odd' },
      numNodes: () => count,
      localAddress: () => ({ addr: addrOf(i), port: 7946 }),
      random: seeded(i),
      ...extra,
    });
    nodes.push({ name: `n${i}`, serf, index: i, ...(extra.keyring ? { keyring: extra.keyring } : {}) });
  }
  for (const node of nodes) {
    for (let i = 1; i <= count; i++) node.serf.handle({ type: 'join', member: member(`n${i}`, i) }, 0);
    node.serf.takeEvents();
  }
  const byAddr = (m: DirectMessage) => nodes.find((n) => n.index === m.addr[3] && m.port === 7946);
  /** Delivers gossip and direct messages until nothing moves; `drop` loses direct messages it picks. */
  const settle = (now: number, drop: (from: Node, m: DirectMessage) => boolean = () => false) => {
    for (let round = 0; round < 50; round++) {
      let moved = false;
      for (const from of nodes) {
        for (const bytes of from.serf.getBroadcasts(0, 64 * 1024)) {
          moved = true;
          for (const to of nodes) if (to !== from) to.serf.handle({ type: 'user', body: bytes }, now);
        }
        for (const direct of from.serf.takeDirect()) {
          moved = true;
          if (drop(from, direct)) continue;
          byAddr(direct)?.serf.handle({ type: 'user', body: direct.message }, now);
        }
      }
      if (!moved) return;
    }
  };
  return { nodes, settle };
}

const keyAnswer = (payload: Uint8Array) => decodeNodeKeyResponse(payload);
const b64 = (key: Uint8Array) => Buffer.from(key).toString('base64');
const sortedFrom = (result: { responses: { from: string }[] }) => result.responses.map((r) => r.from).sort();

describe('query timeouts and bookkeeping', () => {
  test('the default timeout is gossip interval × 16 × ceil(log10(n + 1))', () => {
    assert.equal(defaultQueryTimeoutMs(200, 1, 16), 3200);
    assert.equal(defaultQueryTimeoutMs(200, 9, 16), 3200);
    assert.equal(defaultQueryTimeoutMs(200, 10, 16), 6400);
    assert.equal(defaultQueryTimeoutMs(200, 100, 16), 9600);
    assert.equal(defaultQueryTimeoutMs(500, 3, 16), 8000); // the WAN pool's gossip interval
    const serf = new Serf({
      name: 'a',
      tags: {},
      numNodes: () => 12,
      numMembers: () => 3,
      gossipIntervalMs: 50,
    });
    assert.equal(serf.defaultQueryTimeoutMs(), 800);
  });

  test('the query buffer takes each (time, ID) once and refuses queries older than it reaches', () => {
    const buffer = new QueryBuffer(4);
    assert.equal(buffer.record(3, 7, 4), true);
    assert.equal(buffer.record(3, 7, 4), false);
    assert.equal(buffer.record(3, 8, 4), true, 'another query at the same time');
    assert.equal(buffer.record(7, 7, 8), true, 'a newer time takes the slot over');
    assert.equal(buffer.record(3, 9, 8), false, 'older than the buffer reaches');
    assert.equal(buffer.record(4, 1, 8), true, 'the oldest time still within reach');
  });

  test('filters: a node list must name this node; a tag expression must match (unanchored)', () => {
    const tags = { role: 'consul', dc: 'dc1' };
    const node = (nodes: string[]) => encodeSerfFilter({ type: 'node', nodes });
    const tag = (t: string, expr: string) => encodeSerfFilter({ type: 'tag', tag: t, expr });
    assert.equal(shouldProcessQuery([], 'a', tags), true);
    assert.equal(shouldProcessQuery([node(['b', 'a'])], 'a', tags), true);
    assert.equal(shouldProcessQuery([node(['b'])], 'a', tags), false);
    assert.equal(shouldProcessQuery([tag('role', 'cons')], 'a', tags), true);
    assert.equal(shouldProcessQuery([tag('role', '^node$')], 'a', tags), false);
    assert.equal(shouldProcessQuery([tag('missing', '^$')], 'a', tags), true, 'a missing tag is empty');
    assert.equal(shouldProcessQuery([tag('role', '(')], 'a', tags), false, 'a bad expression fails');
    assert.equal(shouldProcessQuery([new Uint8Array([9, 0xc0])], 'a', tags), false, 'unknown filter type');
  });
});

describe('sending and answering queries', () => {
  test('a query carries the query clock, an ID, where to answer, the sender, the ack flag and the timeout', () => {
    const { nodes } = cluster(3, () => ({ gossipIntervalMs: 200 }));
    const a = nodes[0]!.serf;
    a.queryClock.witness(40);
    const running = a.query('deploy', new Uint8Array([1, 2]), { requestAck: true }, 1000);
    const [gossiped] = a.getBroadcasts(0, 64 * 1024).map((bytes) => decodeSerfMessage(bytes));
    assert.equal(gossiped!.type, 'query');
    const q = gossiped!.body as SerfQuery;
    assert.equal(q.LTime, 41, 'the query clock as it was, then witnessed past it');
    assert.equal(a.queryClock.time(), 42);
    assert.equal(q.ID, running.id);
    assert.ok(q.ID >= 0 && q.ID < 2 ** 31);
    assert.deepEqual([...q.Addr], [10, 0, 0, 1]);
    assert.equal(q.Port, 7946);
    assert.equal(q.SourceNode, 'n1');
    assert.equal(q.Flags, SerfQueryFlag.ack);
    assert.equal(q.Timeout, 3200 * 1e6, 'nanoseconds, as a Go time.Duration');
    assert.equal(q.Name, 'deploy');
    assert.equal(running.deadline, 1000 + 3200);
    // The sender processes its own query: it acks itself.
    assert.deepEqual(running.acks, ['n1']);
    const second = a.query('deploy', new Uint8Array(), {}, 1000);
    assert.equal(second.ltime, 42);
  });

  test('a query larger than the size limit is refused', () => {
    const { nodes } = cluster(1);
    assert.throws(
      () => nodes[0]!.serf.query('big', new Uint8Array(2000), {}, 0),
      /query exceeds limit of 1024 bytes/,
    );
  });

  test('every member acks and answers directly to the asker; the query is gossiped on once per member', () => {
    const { nodes, settle } = cluster(4);
    const answered: string[] = [];
    for (const node of nodes.slice(1)) {
      node.serf.onQuery((query) => {
        answered.push(node.name);
        query.respond(new TextEncoder().encode(`${node.name}:${new TextDecoder().decode(query.payload)}`));
      });
    }
    const running = nodes[0]!.serf.query('echo', new TextEncoder().encode('hi'), { requestAck: true }, 0);
    settle(10);
    assert.deepEqual(answered.sort(), ['n2', 'n3', 'n4'], 'each member answered once, duplicates ignored');
    assert.deepEqual([...running.acks].sort(), ['n1', 'n2', 'n3', 'n4']);
    assert.deepEqual(running.responses.map((r) => new TextDecoder().decode(r.payload)).sort(), [
      'n2:hi',
      'n3:hi',
      'n4:hi',
    ]);
  });

  test('a duplicate query is neither answered again nor gossiped on; a second answer is refused', () => {
    const { nodes } = cluster(2);
    const b = nodes[1]!.serf;
    let calls = 0;
    let second: Error | undefined;
    b.onQuery((query) => {
      calls++;
      query.respond(new Uint8Array([1]));
      try {
        query.respond(new Uint8Array([2]));
      } catch (err) {
        second = err as Error;
      }
    });
    nodes[0]!.serf.query('q', new Uint8Array(), {}, 0);
    const [bytes] = nodes[0]!.serf.getBroadcasts(0, 64 * 1024);
    b.handle({ type: 'user', body: bytes! }, 1);
    assert.equal(b.getBroadcasts(0, 64 * 1024).length, 1, 'gossiped on');
    b.handle({ type: 'user', body: bytes! }, 2);
    assert.equal(b.getBroadcasts(0, 64 * 1024).length, 1, 'still the one broadcast, retransmitted');
    assert.equal(calls, 1);
    assert.equal(second?.message, 'response already sent');
    assert.equal(b.takeDirect().length, 1);
  });

  test('no-broadcast queries are answered but not gossiped on; filtered-out nodes gossip on without answering', () => {
    const { nodes } = cluster(2);
    const b = nodes[1]!.serf;
    const seen: string[] = [];
    b.onQuery((query) => seen.push(query.name));
    const query = (name: string, flags: number, filters: Uint8Array[] = []): Uint8Array =>
      encodeSerfMessage({
        type: 'query',
        body: {
          LTime: 5,
          ID: name.length,
          Addr: addrOf(1),
          Port: 7946,
          SourceNode: 'n1',
          Filters: filters,
          Flags: flags,
          RelayFactor: 0,
          Timeout: 1e9,
          Name: name,
          Payload: new Uint8Array(),
        },
      });
    b.handle({ type: 'user', body: query('direct', SerfQueryFlag.noBroadcast) }, 0);
    assert.deepEqual(seen, ['direct']);
    assert.equal(b.getBroadcasts(0, 64 * 1024).length, 0);
    b.handle(
      {
        type: 'user',
        body: query('for-others', SerfQueryFlag.ack, [encodeSerfFilter({ type: 'node', nodes: ['n9'] })]),
      },
      0,
    );
    assert.deepEqual(seen, ['direct'], 'not for this node');
    assert.equal(b.takeDirect().length, 0, 'and not acked');
    assert.equal(b.getBroadcasts(0, 64 * 1024).length, 1, 'but gossiped on');
  });

  test('a query handler that throws is logged; the query is still gossiped on', () => {
    const logged: string[] = [];
    const { nodes } = cluster(2, (i) => (i === 2 ? { log: (_level, message) => logged.push(message) } : {}));
    const b = nodes[1]!.serf;
    b.onQuery(() => {
      throw new Error('boom');
    });
    nodes[0]!.serf.query('explode', new Uint8Array(), {}, 0);
    const [bytes] = nodes[0]!.serf.getBroadcasts(0, 64 * 1024);
    b.handle({ type: 'user', body: bytes! }, 1);
    assert.deepEqual(logged, ['serf: query explode handler failed: boom']);
    assert.equal(b.getBroadcasts(0, 64 * 1024).length, 1);
  });

  test('answers after the deadline are refused on both sides; duplicates and foreign IDs are dropped', () => {
    const { nodes } = cluster(2);
    const [a, b] = [nodes[0]!.serf, nodes[1]!.serf];
    let late: Error | undefined;
    b.onQuery((query) => {
      try {
        query.respond(new Uint8Array([1]), 5000);
      } catch (err) {
        late = err as Error;
      }
    });
    const running = a.query('slow', new Uint8Array(), { timeoutMs: 1000 }, 0);
    const [bytes] = a.getBroadcasts(0, 64 * 1024);
    b.handle({ type: 'user', body: bytes! }, 10);
    assert.equal(late?.message, 'response is past the deadline');
    const answer = (from: string, id: number) =>
      encodeSerfMessage({
        type: 'queryResponse',
        body: { LTime: running.ltime, ID: id, From: from, Flags: 0, Payload: new Uint8Array([7]) },
      });
    a.handle({ type: 'user', body: answer('n2', running.id) }, 500);
    a.handle({ type: 'user', body: answer('n2', running.id) }, 600);
    a.handle({ type: 'user', body: answer('n3', running.id + 1) }, 600);
    a.handle({ type: 'user', body: answer('n4', running.id) }, 1500);
    assert.deepEqual(
      running.responses.map((r) => r.from),
      ['n2'],
    );
    a.closeQuery(running);
    a.handle({ type: 'user', body: answer('n5', running.id) }, 700);
    assert.deepEqual(
      running.responses.map((r) => r.from),
      ['n2'],
    );
  });

  test('with a relay factor, answers also travel through other members, who forward them', () => {
    const { nodes, settle } = cluster(4);
    for (const node of nodes.slice(1))
      node.serf.onQuery((query) => query.respond(new Uint8Array([node.index])));
    const running = nodes[0]!.serf.query('relayed', new Uint8Array(), { relayFactor: 2 }, 0);
    // Every direct answer from n2 to n1 is lost: n2's answer must arrive through relays.
    settle(
      1,
      (from, m) => from.name === 'n2' && m.addr[3] === 1 && decodeSerfMessage(m.message).type !== 'relay',
    );
    assert.deepEqual(sortedFrom(running), ['n2', 'n3', 'n4']);
  });
});

describe('internal queries', () => {
  test('_serf_ping is acked and needs no answer', () => {
    const { nodes, settle } = cluster(3);
    const running = nodes[0]!.serf.query('_serf_ping', new Uint8Array(), { requestAck: true }, 0);
    settle(1);
    assert.deepEqual([...running.acks].sort(), ['n1', 'n2', 'n3']);
    assert.equal(running.responses.length, 0);
  });

  test('_serf_conflict: others say where they believe the node is; the node itself stays silent', () => {
    const { nodes, settle } = cluster(3);
    const running = nodes[0]!.serf.query('_serf_conflict', new TextEncoder().encode('n1'), {}, 0);
    settle(1);
    assert.deepEqual(sortedFrom(running), ['n2', 'n3']);
    for (const { payload } of running.responses) {
      assert.equal(payload[0], 6, 'a conflict response');
      const body = decodeValue(payload.subarray(1)) as Record<string, unknown>;
      assert.equal(new TextDecoder().decode(body.Name as Uint8Array), 'n1');
      assert.deepEqual([...(body.Addr as Uint8Array)], [10, 0, 0, 1]);
      assert.equal(body.Port, 7946);
      assert.equal(body.Status, 1);
    }
    assert.deepEqual([...encodeConflictResponse(undefined)], [6, 0xc0], 'an unknown node: nil');
  });

  test('key queries: install, use and remove change every keyring; the primary cannot be removed', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(16);
    const persisted: string[] = [];
    const { nodes, settle } = cluster(3, (i) => ({
      keyring: new Keyring(k1),
      persistKeyring: () => persisted.push(`n${i}`),
    }));
    const run = (name: string, key: Uint8Array) => {
      const running = nodes[0]!.serf.query(`_serf_${name}`, encodeKeyRequest(key), {}, 0);
      settle(1);
      return running.responses.map((r) => ({ from: r.from, ...keyAnswer(r.payload) }));
    };
    const install = run('install-key', k2);
    assert.equal(install.length, 3);
    assert.ok(install.every((r) => r.Result && r.Message === ''));
    assert.deepEqual(persisted.sort(), ['n1', 'n2', 'n3'], 'each member persisted its keyring');
    for (const node of nodes) assert.deepEqual(node.keyring!.keys.map(b64), [b64(k1), b64(k2)]);

    const refused = run('remove-key', k1);
    assert.ok(refused.every((r) => !r.Result && r.Message === KeyringMessages.removePrimary));
    assert.equal(KeyringMessages.removePrimary, 'Removing the primary key is not allowed');

    assert.ok(run('use-key', k2).every((r) => r.Result));
    for (const node of nodes) assert.equal(b64(node.keyring!.primaryKey), b64(k2));
    assert.ok(run('remove-key', k1).every((r) => r.Result));
    for (const node of nodes) assert.deepEqual(node.keyring!.keys.map(b64), [b64(k2)]);

    const unknown = run('use-key', k1);
    assert.ok(unknown.every((r) => !r.Result && r.Message === 'Requested key is not in the keyring'));
    const short = run('install-key', new Uint8Array(5));
    assert.ok(short.every((r) => !r.Result && r.Message === 'key size must be 16, 24 or 32 bytes'));
    assert.ok(
      run('remove-key', randomBytes(16)).every((r) => r.Result),
      'removing a missing key is fine',
    );

    const list = run('list-keys', new Uint8Array());
    assert.equal(list.length, 3);
    for (const answer of list) {
      assert.equal(answer.Result, true);
      assert.deepEqual(answer.Keys, [b64(k2)]);
      assert.equal(answer.PrimaryKey, b64(k2));
    }
  });

  test('key queries without encryption fail with serf words; a failing keyring write fails the node', () => {
    const { nodes, settle } = cluster(2, (i) =>
      i === 2
        ? {
            keyring: new Keyring(randomBytes(16)),
            persistKeyring: () => {
              throw new Error('Failed to write keyring file: disk full');
            },
          }
        : {},
    );
    const run = (name: string, key: Uint8Array) => {
      const running = nodes[0]!.serf.query(`_serf_${name}`, encodeKeyRequest(key), {}, 0);
      settle(1);
      return Object.fromEntries(running.responses.map((r) => [r.from, keyAnswer(r.payload)]));
    };
    const list = run('list-keys', new Uint8Array());
    assert.deepEqual(list.n1, {
      Result: false,
      Message: 'Keyring is empty (encryption not enabled)',
      Keys: [],
      PrimaryKey: '',
    });
    assert.equal(list.n2?.Result, true);
    const install = run('install-key', randomBytes(16));
    assert.equal(install.n1?.Message, 'No keyring to modify (encryption not enabled)');
    assert.equal(install.n2?.Message, 'Failed to write keyring file: disk full');
    assert.equal(install.n2?.Result, false);
  });

  test('a key list too long for one answer is cut to what fits, saying so', () => {
    const keys = Array.from({ length: 60 }, () => b64(randomBytes(32)));
    const fitted = fitKeyList(
      { Result: true, Message: '', Keys: keys, PrimaryKey: keys[0]! },
      (payload) => payload.length <= 1000,
      1024,
    )!;
    assert.ok(fitted.truncated);
    const answer = keyAnswer(fitted.payload);
    assert.ok(answer.Keys.length < 40 && answer.Keys.length > 0);
    assert.equal(
      answer.Message,
      `truncated key list response, showing first ${answer.Keys.length} of 60 keys`,
    );
    assert.deepEqual(answer.Keys, keys.slice(0, answer.Keys.length));
  });
});

describe('the key manager', () => {
  const answer = (from: string, fields: Partial<Parameters<typeof encodeNodeKeyResponse>[0]>) => ({
    from,
    payload: encodeNodeKeyResponse({ Result: true, Message: '', Keys: [], PrimaryKey: '', ...fields }),
  });

  test('tallies keys and primary keys per node, and fails unless all counted nodes succeeded', () => {
    const tally = tallyKeyResponses(3, [
      answer('a', { Keys: ['K1', 'K2'], PrimaryKey: 'K1' }),
      answer('b', { Keys: ['K1'], PrimaryKey: 'K1' }),
      answer('c', { Result: false, Message: 'Keyring is empty (encryption not enabled)' }),
    ]);
    assert.deepEqual(tally.keys, { K1: 2, K2: 1 });
    assert.deepEqual(tally.primaryKeys, { K1: 2 });
    assert.deepEqual(tally.messages, { c: 'Keyring is empty (encryption not enabled)' });
    assert.equal(keyResponseError(tally), '1/3 nodes reported failure');
    const missing = tallyKeyResponses(3, [answer('a', {}), answer('b', {})]);
    assert.equal(keyResponseError(missing), '2/3 nodes reported success');
    assert.equal(keyResponseError(tallyKeyResponses(2, [answer('a', {}), answer('b', {})])), undefined);
    const bad = tallyKeyResponses(1, [{ from: 'x', payload: new Uint8Array([1, 2]) }]);
    assert.deepEqual(bad.messages, { x: 'Invalid key query response type: [1 2]' });
    assert.equal(bad.numErr, 1);
  });

  test('sends the key query, stops waiting once every member answered, and refuses bad base64', async () => {
    const k = randomBytes(16);
    const { nodes, settle } = cluster(2, () => ({ keyring: new Keyring(k) }));
    const calls: { name: string; relayFactor: number | undefined }[] = [];
    const runner: QueryRunner = {
      numMembers: () => 2,
      query: async (name, payload, params, enough) => {
        calls.push({ name, relayFactor: params.relayFactor });
        const running = nodes[0]!.serf.query(name, payload, params, 0);
        settle(1);
        const result: QueryResult = running.result();
        assert.equal(enough?.(result), true, 'both answered: no need to wait for the deadline');
        return result;
      },
    };
    const manager = new KeyManager(runner);
    const listed = await manager.run('list', 'ignored', { relayFactor: 2 });
    assert.equal(listed.error, undefined);
    assert.deepEqual(listed.response.keys, { [b64(k)]: 2 });
    assert.deepEqual(listed.response.primaryKeys, { [b64(k)]: 2 });
    assert.deepEqual(calls, [{ name: '_serf_list-keys', relayFactor: 2 }]);
    const removed = await manager.run('remove', b64(k));
    assert.equal(removed.error, '2/2 nodes reported failure');
    assert.deepEqual(removed.response.messages, {
      n1: 'Removing the primary key is not allowed',
      n2: 'Removing the primary key is not allowed',
    });
    const garbage = await manager.run('install', 'not base64!');
    assert.equal(garbage.error, 'illegal base64 data at input byte 3');
    assert.equal(calls.length, 2, 'nothing sent for a key that does not decode');
  });

  test('base64 as Go decodes it', () => {
    assert.deepEqual([...decodeStdBase64('')], []);
    assert.deepEqual([...decodeStdBase64('AQID')], [1, 2, 3]);
    assert.deepEqual([...decodeStdBase64('AQI=')], [1, 2]);
    assert.deepEqual([...decodeStdBase64('AQ==')], [1]);
    assert.deepEqual([...decodeStdBase64('AQ\n==')], [1]);
    assert.throws(() => decodeStdBase64('AQI'), /illegal base64 data at input byte 0/);
    assert.throws(() => decodeStdBase64('AQIDB'), /illegal base64 data at input byte 4/);
    assert.throws(() => decodeStdBase64('A==='), /illegal base64 data at input byte 1/);
    assert.throws(() => decodeStdBase64('AQ==AQ=='), /illegal base64 data at input byte 4/);
    assert.throws(() => decodeStdBase64('AQ-D'), /illegal base64 data at input byte 2/);
  });
});

describe('the keyring file', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'tribune-keyring-'));

  test('-encrypt starts the file; the file then wins over -encrypt, with a warning when it lacks the key', () => {
    const dataDir = dir();
    const k1 = b64(randomBytes(32));
    const k2 = b64(randomBytes(32));
    const first = setupPoolKeyring(dataDir, 'serf/local.keyring', k1);
    const path = join(dataDir, 'serf/local.keyring');
    assert.equal(first.keyringFile, path);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), [k1]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(first.warning, undefined);

    // A key query moved the cluster to k2 and the file was rewritten.
    first.keyring!.addKey(Buffer.from(k2, 'base64'));
    first.keyring!.useKey(Buffer.from(k2, 'base64'));
    writeKeyringFile(path, first.keyring!.keys);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), [k2, k1], 'the primary first');

    const again = setupPoolKeyring(dataDir, 'serf/local.keyring', k1);
    assert.deepEqual(again.keyring!.keys.map(b64), [k2, k1]);
    assert.equal(again.warning, undefined, 'the file holds the -encrypt key');
    const other = setupPoolKeyring(dataDir, 'serf/local.keyring', b64(randomBytes(16)));
    assert.equal(other.warning, "keyring doesn't include key provided with -encrypt, using keyring");
    assert.deepEqual(other.keyring!.keys.map(b64), [k2, k1]);
    const noFlag = setupPoolKeyring(dataDir, 'serf/local.keyring', undefined);
    assert.deepEqual(noFlag.keyring!.keys.map(b64), [k2, k1], 'the file alone turns encryption on');
  });

  test('no data dir: -encrypt alone; neither: no encryption; bad files are errors', () => {
    const k = b64(randomBytes(16));
    const plain = setupPoolKeyring(undefined, 'serf/local.keyring', k);
    assert.equal(plain.keyringFile, undefined);
    assert.deepEqual(plain.keyring!.keys.map(b64), [k]);
    assert.deepEqual(setupPoolKeyring(dir(), 'serf/remote.keyring', undefined), {});
    const path = join(dir(), 'empty.keyring');
    writeFileSync(path, '[]');
    assert.throws(() => readKeyringFile(path), /no keys present in keyring/);
    writeFileSync(path, '["c2hvcnQ="]');
    assert.throws(() => readKeyringFile(path), /key size must be 16, 24 or 32 bytes/);
  });
});
