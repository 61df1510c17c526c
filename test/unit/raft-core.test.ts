import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { type RaftOptions, resolveOptions } from '../../src/raft/core/config.ts';
import { Inflights } from '../../src/raft/core/inflights.ts';
import { RaftLog } from '../../src/raft/core/log.ts';
import {
  applyChange,
  bootstrapEntry,
  encodeMembership,
  MembershipHistory,
} from '../../src/raft/core/membership.ts';
import { MemoryStorage } from '../../src/raft/core/memory-storage.ts';
import type { AppendRequest, Message } from '../../src/raft/core/messages.ts';
import { RaftNode } from '../../src/raft/core/node.ts';
import { seededRandom } from '../../src/raft/core/prng.ts';
import { quorumValue, tally } from '../../src/raft/core/quorum.ts';
import type { Entry, HardState } from '../../src/raft/core/types.ts';

// The consensus core driven by hand: messages are delivered synchronously and selectively, so each test can
// build exactly the situation it is about.

const bytes = (text: string) => new TextEncoder().encode(text);
const command = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: 'command',
  data: bytes(text),
});

/** A server with in-memory storage that persists each Ready before handing out its messages. */
class Member {
  readonly storage: MemoryStorage;
  hardState: HardState;
  readonly node: RaftNode;
  readonly applied: Entry[] = [];

  constructor(id: string, entries: Entry[], hardState: HardState, options: Partial<RaftOptions> = {}) {
    this.storage = new MemoryStorage(entries);
    this.hardState = hardState;
    this.node = new RaftNode({
      id,
      storage: this.storage,
      hardState,
      options,
      random: seededRandom(id.charCodeAt(1)),
    });
  }

  /** Carries out every pending Ready; returns the messages to send. */
  drain(): Message[] {
    const out: Message[] = [];
    while (this.node.hasReady()) {
      const ready = this.node.ready();
      this.storage.append(ready.entries);
      if (ready.hardState) this.hardState = ready.hardState;
      out.push(...ready.earlyMessages, ...ready.messages);
      this.applied.push(...ready.committed);
      this.node.advance();
    }
    return out;
  }
}

type Cluster = Map<string, Member>;

/**
 * A freshly bootstrapped cluster. Check-quorum is off unless asked for: with it, restarted servers refuse
 * votes for an election timeout, and these tests tick only the server they want elected.
 */
function cluster(ids: string[], options: Partial<RaftOptions> = {}): Cluster {
  const members: Cluster = new Map();
  for (const id of ids) {
    const hardState = { term: 1, vote: null, commit: 1 };
    const member = new Member(id, [bootstrapEntry(ids)], hardState, { checkQuorum: false, ...options });
    member.drain();
    members.set(id, member);
  }
  return members;
}

/** Delivers messages until the cluster is quiet; `keep` can drop some. Returns every message delivered. */
function settle(members: Cluster, keep: (m: Message) => boolean = () => true): Message[] {
  const delivered: Message[] = [];
  for (;;) {
    const inFlight = [...members.values()].flatMap((member) => member.drain()).filter(keep);
    if (inFlight.length === 0) return delivered;
    for (const message of inFlight) {
      members.get(message.to)?.node.step(message);
      delivered.push(message);
    }
  }
}

/** Ticks `id` until it campaigns, then lets the election play out (delivering only what `keep` keeps). */
function elect(members: Cluster, id: string, keep?: (m: Message) => boolean): void {
  const member = members.get(id)!;
  for (let i = 0; i < 60 && member.node.role !== 'leader'; i++) {
    member.node.tick();
    settle(members, keep);
  }
  assert.equal(member.node.role, 'leader');
}

function propose(members: Cluster, id: string, text: string): number {
  const proposed = members.get(id)!.node.propose(bytes(text));
  assert.ok(proposed.ok);
  return proposed.index;
}

describe('raft core', () => {
  test('elects a leader, replicates and applies on every server', () => {
    const members = cluster(['n1', 'n2', 'n3']);
    elect(members, 'n1');
    const index = propose(members, 'n1', 'hello');
    settle(members);
    for (const member of members.values()) {
      assert.equal(member.node.commit, index);
      assert.deepEqual(member.applied.at(-1), { index, term: 2, type: 'command', data: bytes('hello') });
    }
  });

  test('never commits an entry of an earlier term by counting replicas (Raft figure 8)', () => {
    // n1 holds entry 2 from term 2 that n2 and n3 lack; it wins term 3 and appends its no-op at 3.
    const log = [bootstrapEntry(['n1', 'n2', 'n3']), command(2, 2)];
    const options = { checkQuorum: false };
    const members: Cluster = new Map([
      ['n1', new Member('n1', log, { term: 2, vote: 'n1', commit: 1 }, options)],
      ['n2', new Member('n2', log.slice(0, 1), { term: 2, vote: 'n1', commit: 1 }, options)],
      ['n3', new Member('n3', log.slice(0, 1), { term: 2, vote: 'n1', commit: 1 }, options)],
    ]);
    // Hold back replication; then hand n2 entry 2 alone, so a majority stores it but only n1 the no-op.
    elect(members, 'n1', (m) => m.type !== 'append');
    const leader = members.get('n1')!;
    const append: AppendRequest = {
      type: 'append',
      from: 'n1',
      to: 'n2',
      term: 3,
      prevIndex: 1,
      prevTerm: 1,
      entries: [command(2, 2)],
      commit: 1,
      round: 1,
    };
    members.get('n2')!.node.step(append);
    for (const response of members.get('n2')!.drain()) leader.node.step(response);
    assert.equal(leader.node.status().peers.find((p) => p.id === 'n2')!.match, 2);
    assert.equal(leader.node.commit, 1, 'entry 2 of term 2 was committed by counting replicas');
    settle(members);
    assert.equal(leader.node.commit, 3);
  });

  test('skips a whole conflicting term per round trip when backtracking', () => {
    // n2 holds 40 entries of a term-2 leader that never committed them; n1 leads term 3 with another history.
    const base = bootstrapEntry(['n1', 'n2', 'n3']);
    const stale = [base, ...Array.from({ length: 40 }, (_, i) => command(i + 2, 2, 'stale'))];
    const fresh = [base, ...Array.from({ length: 5 }, (_, i) => command(i + 2, 3, 'fresh'))];
    const options = { checkQuorum: false, preVote: false };
    const members: Cluster = new Map([
      ['n1', new Member('n1', fresh, { term: 3, vote: 'n1', commit: 1 }, options)],
      ['n2', new Member('n2', stale, { term: 3, vote: 'n1', commit: 1 }, options)],
      ['n3', new Member('n3', fresh, { term: 3, vote: 'n1', commit: 1 }, options)],
    ]);
    elect(members, 'n1');
    const rejections = settle(members).filter(
      (m) => m.type === 'append-response' && !m.success && m.from === 'n2',
    );
    assert.ok(rejections.length <= 2, `${rejections.length} rejections`);
    assert.equal(members.get('n2')!.storage.lastIndex(), members.get('n1')!.storage.lastIndex());
  });

  test('pipelines appends up to the in-flight limit, then waits for acknowledgements', () => {
    const members = cluster(['n1', 'n2'], { maxInflightMessages: 3, maxMessageBytes: 1 });
    elect(members, 'n1');
    const leader = members.get('n1')!;
    for (let i = 0; i < 10; i++) propose(members, 'n1', `p${i}`);
    const sent = leader.drain();
    const appends = sent.filter((m) => m.type === 'append');
    assert.equal(appends.length, 3, 'one entry per message (byte limit), three messages in flight');
    for (const message of sent) members.get(message.to)!.node.step(message);
    settle(members);
    assert.equal(members.get('n2')!.node.commit, leader.node.commit);
    assert.equal(leader.node.commit, leader.storage.lastIndex());
  });

  test('batches proposals made between Readys into one append per follower', () => {
    const members = cluster(['n1', 'n2', 'n3']);
    elect(members, 'n1');
    settle(members);
    for (let i = 0; i < 50; i++) propose(members, 'n1', `p${i}`);
    const appends = members
      .get('n1')!
      .drain()
      .filter((m): m is AppendRequest => m.type === 'append');
    assert.equal(appends.length, 2);
    assert.ok(appends.every((m) => m.entries.length === 50));
  });

  test('a Ready asks for an fsync exactly when entries, term or vote change, and messages wait for it', () => {
    const members = cluster(['n1', 'n2', 'n3'], { preVote: false });
    const candidate = members.get('n1')!.node;
    while (!candidate.hasReady()) candidate.tick();
    const campaign = candidate.ready();
    assert.equal(campaign.hardState?.vote, 'n1');
    assert.equal(campaign.mustSync, true);
    assert.ok(campaign.messages.every((m) => m.type === 'vote'));
    assert.throws(() => candidate.ready(), /not been advanced/);
    candidate.advance();
    const voter = members.get('n2')!.node;
    for (const m of campaign.messages.filter((m) => m.to === 'n2')) voter.step(m);
    const vote = voter.ready();
    assert.equal(vote.mustSync, true);
    assert.deepEqual(vote.hardState, { term: 2, vote: 'n1', commit: 1 });
  });

  test("only a leader's appends and heartbeats may leave before its write is durable", () => {
    const members = cluster(['n1', 'n2', 'n3'], { preVote: false });
    const candidate = members.get('n1')!.node;
    while (!candidate.hasReady()) candidate.tick();
    const campaign = candidate.ready();
    assert.deepEqual(campaign.earlyMessages, [], 'a vote request promises a persisted vote');
    candidate.advance();
    elect(members, 'n1');
    settle(members);
    propose(members, 'n1', 'early');
    const leaderReady = members.get('n1')!.node.ready();
    assert.equal(leaderReady.mustSync, true);
    assert.ok(leaderReady.earlyMessages.some((m) => m.type === 'append'));
    assert.ok(leaderReady.earlyMessages.every((m) => m.type === 'append' || m.type === 'heartbeat'));
    members.get('n1')!.node.advance();
    const follower = members.get('n2')!.node;
    for (const m of leaderReady.earlyMessages.filter((m) => m.to === 'n2')) follower.step(m);
    const followerReady = follower.ready();
    assert.deepEqual(followerReady.earlyMessages, [], 'an acknowledgement promises persisted entries');
    assert.ok(followerReady.messages.some((m) => m.type === 'append-response'));
  });

  test('messages survive a msgpack round trip unchanged', () => {
    const members = cluster(['n1', 'n2', 'n3']);
    elect(members, 'n1');
    propose(members, 'n1', 'payload');
    for (const message of settle(members)) assert.deepEqual(decode(encode(message)), message);
  });

  test('a follower rejects proposals and reads, naming the leader', () => {
    const members = cluster(['n1', 'n2', 'n3']);
    elect(members, 'n1');
    const follower = members.get('n2')!.node;
    assert.deepEqual(follower.propose(bytes('x')), { ok: false, reason: 'not-leader', leader: 'n1' });
    assert.equal(follower.readIndex('r1'), false);
    assert.equal(follower.leaseRead(), null);
  });

  test('a single-server cluster commits and confirms reads on its own', () => {
    const members = cluster(['n1'], { checkQuorum: true });
    elect(members, 'n1');
    const index = propose(members, 'n1', 'solo');
    settle(members);
    const node = members.get('n1')!.node;
    assert.equal(node.commit, index);
    assert.equal(node.leaseRead(), index);
    node.readIndex('r1');
    assert.deepEqual(node.ready().readStates, [{ requestId: 'r1', index }]);
  });

  test('describes snapshots with the membership in force at their index', () => {
    const members = cluster(['n1', 'n2', 'n3']);
    elect(members, 'n1');
    settle(members);
    const node = members.get('n1')!.node;
    assert.ok(node.proposeMembershipChange({ kind: 'add-learner', node: 'n4' }).ok);
    settle(members);
    const meta = node.snapshotMetaAt(node.commit);
    assert.deepEqual(meta.membership, { voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    assert.deepEqual(node.snapshotMetaAt(2).membership.learners, []);
    assert.throws(() => node.snapshotMetaAt(node.commit + 1));
  });
});

test('reads waiting on a leader that steps down are aborted', () => {
  const members = cluster(['n1', 'n2', 'n3']);
  elect(members, 'n1');
  const leader = members.get('n1')!;
  assert.equal(leader.node.readIndex('r1'), true);
  leader.node.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 9, commit: 0, round: 1 });
  assert.equal(leader.node.role, 'follower');
  assert.deepEqual(leader.node.ready().abortedReads, ['r1']);
});

test('an unreachable follower goes back to probing', () => {
  const members = cluster(['n1', 'n2', 'n3']);
  elect(members, 'n1');
  const leader = members.get('n1')!.node;
  assert.equal(leader.status().peers.find((peer) => peer.id === 'n2')?.state, 'replicate');
  leader.reportUnreachable('n2');
  assert.equal(leader.status().peers.find((peer) => peer.id === 'n2')?.state, 'probe');
});

test('a flood of stale heartbeat answers after a partition heals sends the probe once, not once per answer', () => {
  const members = cluster(['n1', 'n2', 'n3']);
  elect(members, 'n1');
  settle(members);
  const leader = members.get('n1')!;
  // n3 is cut off: what n1 sends it piles up (a black hole keeps the TCP connection), and n1 probes it.
  leader.node.reportUnreachable('n3');
  const queued: Message[] = [];
  for (let i = 0; i < 100; i++) {
    if (i % 20 === 0) propose(members, 'n1', `while-cut-${i}`);
    leader.node.tick();
    settle(members, (m) => {
      if (m.to !== 'n3') return true;
      queued.push(m);
      return false;
    });
  }
  assert.ok(queued.filter((m) => m.type === 'heartbeat').length >= 10, 'heartbeats queued for n3');
  // The link heals: n3 gets everything at once and answers each message; n1 takes every answer.
  const follower = members.get('n3')!;
  for (const message of queued) follower.node.step(message);
  for (const answer of follower.drain()) leader.node.step(answer);
  const sent = leader.drain();
  const appends = sent.filter((m) => m.type === 'append' && m.to === 'n3');
  assert.ok(appends.length <= 1, `${appends.length} appends to n3 for one flood of answers`);
  for (const message of sent) members.get(message.to)!.node.step(message);
  settle(members);
  assert.equal(follower.node.commit, leader.node.commit);
});

test('a leader does not step down for its own stall, but does when its followers are silent', () => {
  const members = cluster(['n1', 'n2', 'n3'], { checkQuorum: true });
  // Voters refuse votes for an election timeout after starting, as they would after hearing a leader.
  for (const id of ['n2', 'n3']) members.get(id)!.node.tick(40);
  elect(members, 'n1');
  settle(members);
  const leader = members.get('n1')!.node;
  // 40 ticks in one go: the process was stalled; the followers' answers are still waiting to be read.
  leader.tick(40);
  assert.equal(leader.role, 'leader');
  settle(members);
  // The same time in single ticks with nobody answering is a lost quorum.
  for (let i = 0; i < 40 && leader.role === 'leader'; i++) leader.tick();
  assert.notEqual(leader.role, 'leader');
});

test('reads arriving while a heartbeat round is unanswered share the next round instead of one each', () => {
  const members = cluster(['n1', 'n2', 'n3']);
  elect(members, 'n1');
  settle(members);
  const leader = members.get('n1')!;
  const heartbeats = (messages: Message[]) => messages.filter((m) => m.type === 'heartbeat').length;
  assert.equal(leader.node.readIndex('r0'), true);
  const first = leader.drain();
  assert.equal(heartbeats(first), 2);
  for (let i = 1; i <= 9; i++) leader.node.readIndex(`r${i}`);
  assert.equal(heartbeats(leader.drain()), 0, 'no new round while the first is unanswered');
  const released: string[] = [];
  const readStates = (m: Member) => {
    while (m.node.hasReady()) {
      const ready = m.node.ready();
      released.push(...ready.readStates.map((r) => r.requestId));
      for (const message of [...ready.earlyMessages, ...ready.messages])
        members.get(message.to)!.node.step(message);
      m.node.advance();
    }
  };
  for (const message of first) members.get(message.to)!.node.step(message);
  for (const id of ['n2', 'n3']) for (const answer of members.get(id)!.drain()) leader.node.step(answer);
  readStates(leader);
  assert.deepEqual(released, ['r0']);
  for (let round = 0; round < 3 && released.length < 10; round++) {
    for (const id of ['n2', 'n3']) for (const answer of members.get(id)!.drain()) leader.node.step(answer);
    readStates(leader);
  }
  assert.deepEqual(
    released,
    Array.from({ length: 10 }, (_, i) => `r${i}`),
  );
});

test('a learner never campaigns, and a leader that removes itself steps down once that commits', () => {
  const members = cluster(['n1', 'n2', 'n3']);
  elect(members, 'n1');
  const leader = members.get('n1')!.node;
  members.set('n4', new Member('n4', [], { term: 0, vote: null, commit: 0 }));
  assert.ok(leader.proposeMembershipChange({ kind: 'add-learner', node: 'n4' }).ok);
  settle(members);
  const learner = members.get('n4')!.node;
  assert.deepEqual(learner.status().membership.learners, ['n4']);
  for (let i = 0; i < 100; i++) learner.tick();
  assert.deepEqual(learner.ready().messages, []);
  assert.ok(leader.proposeMembershipChange({ kind: 'remove', node: 'n1' }).ok);
  settle(members);
  assert.equal(leader.role, 'follower');
  assert.deepEqual(members.get('n2')!.node.status().membership.voters, ['n2', 'n3']);
});

test('a follower can still describe snapshots of entries it applies after receiving a newer snapshot', () => {
  const members = cluster(['n1', 'n2', 'n3']);
  const follower = members.get('n2')!;
  const append: AppendRequest = {
    type: 'append',
    from: 'n1',
    to: 'n2',
    term: 2,
    prevIndex: 1,
    prevTerm: 1,
    entries: [command(2, 2), command(3, 2)],
    commit: 3,
    round: 1,
  };
  follower.node.step(append);
  const ready = follower.node.ready();
  // While that Ready is being persisted, the leader sends a snapshot far ahead.
  const membership = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
  follower.node.step({
    type: 'install-snapshot',
    from: 'n1',
    to: 'n2',
    term: 2,
    meta: { index: 10, term: 2, membership },
    handle: 'h',
    round: 2,
  });
  follower.storage.append(ready.entries);
  follower.node.advance();
  assert.deepEqual(follower.node.snapshotMetaAt(3).membership, { voters: ['n1', 'n2', 'n3'], learners: [] });
  const next = follower.node.ready();
  assert.deepEqual(next.snapshot?.meta.membership, membership);
  assert.deepEqual(follower.node.status().membership, membership);
});

describe('raft core building blocks', () => {
  test('options are validated', () => {
    assert.equal(resolveOptions().heartbeatTicks, 5);
    assert.throws(() => resolveOptions({ leaseTicks: 15 }), /leaseTicks/);
    assert.throws(() => resolveOptions({ electionMaxTicks: 10 }), /electionMaxTicks/);
    assert.throws(() => resolveOptions({ heartbeatTicks: 0 }), /positive/);
  });

  test('quorums and tallies', () => {
    const match: Record<string, number> = { a: 5, b: 3, c: 9, d: 1, e: 7 };
    assert.equal(
      quorumValue(['a', 'b', 'c', 'd', 'e'], (id) => match[id]!),
      5,
    );
    assert.equal(
      tally(
        ['a', 'b', 'c'],
        new Map([
          ['a', true],
          ['b', true],
        ]),
      ),
      'won',
    );
    assert.equal(
      tally(
        ['a', 'b', 'c'],
        new Map([
          ['a', true],
          ['b', false],
        ]),
      ),
      'pending',
    );
    assert.equal(
      tally(
        ['a', 'b', 'c'],
        new Map([
          ['b', false],
          ['c', false],
        ]),
      ),
      'lost',
    );
  });

  test('membership changes one server at a time', () => {
    const base = { voters: ['a', 'b'], learners: ['c'] };
    assert.deepEqual(applyChange(base, { kind: 'promote', node: 'c' }), {
      voters: ['a', 'b', 'c'],
      learners: [],
    });
    assert.deepEqual(applyChange(base, { kind: 'remove', node: 'a' }), { voters: ['b'], learners: ['c'] });
    assert.match(applyChange(base, { kind: 'promote', node: 'a' }) as string, /not a non-voter/);
    assert.match(
      applyChange({ voters: ['a'], learners: [] }, { kind: 'remove', node: 'a' }) as string,
      /last voter/,
    );
    const history = new MembershipHistory(0, base);
    history.record([
      { index: 3, term: 1, type: 'membership', data: encodeMembership({ voters: ['a'], learners: [] }) },
    ]);
    assert.deepEqual(history.current, { voters: ['a'], learners: [] });
    history.record([command(3, 2)]);
    assert.deepEqual(history.current, base, 'a truncated membership entry no longer applies');
  });

  test('in-flight window frees by acknowledgement', () => {
    const inflights = new Inflights(2, 1000);
    inflights.add(5, 10);
    inflights.add(9, 10);
    assert.ok(inflights.full());
    inflights.freeTo(7);
    assert.equal(inflights.count, 1);
    inflights.freeFirst();
    assert.equal(inflights.count, 0);
  });

  test('the log reads the same as a plain array through appends, truncations, persistence and compaction', () => {
    type Step =
      | { kind: 'append'; from: number; terms: number[] }
      | { kind: 'persist' }
      | { kind: 'compact'; upTo: number };
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('append' as const),
        from: fc.nat(30),
        terms: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
      }),
      fc.record({ kind: fc.constant('persist' as const) }),
      fc.record({ kind: fc.constant('compact' as const), upTo: fc.nat(30) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps: Step[]) => {
        const storage = new MemoryStorage();
        const log = new RaftLog(storage, 0, 0);
        let model: Entry[] = [];
        let termFloor = 1;
        for (const s of steps) {
          if (s.kind === 'append') {
            const from = Math.max(Math.min(s.from, log.lastIndex()) + 1, log.committed + 1);
            const terms = s.terms.map((t) => Math.max(t, termFloor)).sort((a, b) => a - b);
            const entries = terms.map((term, i) => command(from + i, term));
            log.append(entries);
            model = [...model.slice(0, from - 1), ...entries];
            termFloor = terms.at(-1)!;
          } else if (s.kind === 'persist') {
            storage.append(log.unstableEntries());
            const last = model.at(-1);
            if (last) log.stableTo(last.index, last.term);
            log.commitTo(log.lastIndex());
          } else {
            const upTo = Math.min(s.upTo, log.committed, storage.lastIndex());
            storage.compact(upTo);
          }
          assert.equal(log.lastIndex(), model.length);
          const first = log.firstIndex();
          assert.deepEqual(
            log.entries(first, model.length + 1, Number.POSITIVE_INFINITY),
            model.slice(first - 1),
          );
          for (let i = first; i <= model.length; i++) assert.equal(log.term(i), model[i - 1]!.term);
        }
      }),
    );
  });
});
