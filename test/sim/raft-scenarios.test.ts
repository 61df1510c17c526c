import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkKvHistory } from './linearizability.ts';
import {
  assertLinearizable,
  awaitConvergence,
  awaitLeader,
  changeMembership,
  perform,
  put,
  scenario,
} from './scenario.ts';

// Deterministic scenarios, one property each, on calm simulated networks (times are simulated ms).

const written = { kind: 'written', result: { ok: true } };

describe('elections', () => {
  test('a fault-free 3-server cluster elects a leader and commits promptly (liveness report)', (t) => {
    const elections: number[] = [];
    const commits: number[] = [];
    for (let seed = 1; seed <= 50; seed++) {
      const sim = scenario({ seed });
      const leader = awaitLeader(sim, 2000);
      elections.push(sim.queue.now);
      const electedAt = sim.queue.now;
      assert.deepEqual(put(sim, leader.id, 'k', 'v'), written);
      commits.push(sim.queue.now - electedAt);
    }
    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
      return `median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`;
    };
    t.diagnostic(
      `first leader: ${summary(elections)}; first write acknowledged after it: ${summary(commits)}`,
    );
    // An election timeout (150–300 ms), maybe a second round after a split vote; a write is a round trip.
    assert.ok(Math.max(...elections) < 1000);
    assert.ok(Math.max(...commits) < 30);
  });

  test('a new leader takes over after the leader crashes, and the old one catches up on restart', (t) => {
    const sim = scenario({ voters: 3 });
    const first = awaitLeader(sim);
    assert.deepEqual(put(sim, first.id, 'k', 'before'), written);
    sim.crash(first.id);
    const crashedAt = sim.queue.now;
    const second = awaitLeader(sim, 2000, [first.id]);
    t.diagnostic(`failover took ${(sim.queue.now - crashedAt).toFixed(0)} ms`);
    assert.ok(sim.queue.now - crashedAt < 1000);
    assert.deepEqual(put(sim, second.id, 'k', 'after'), written);
    sim.restart(first.id);
    awaitConvergence(sim);
    assert.equal(sim.server(first.id).kv.get('k'), 'after');
    assertLinearizable(sim);
  });

  test('a leader cut off with a minority steps down (check-quorum); the minority never commits', () => {
    const sim = scenario({ voters: 5 });
    const old = awaitLeader(sim);
    assert.deepEqual(put(sim, old.id, 'k', 'v1'), written);
    const follower = [...sim.servers.keys()].find((id) => id !== old.id)!;
    const minority = [old.id, follower];
    sim.network.partition([minority, [...sim.servers.keys()].filter((id) => !minority.includes(id))]);
    const commitAtSplit = old.raft!.commit;
    let minorityAnswer: unknown = 'pending';
    sim.perform(
      0,
      old.id,
      { kind: 'put', key: 'k', value: 'minority' },
      (answer) => (minorityAnswer = answer),
    );
    // Within two election timeouts the old leader must notice it lost the quorum.
    const steppedDown = sim.runUntil(() => {
      assert.equal(old.raft!.commit, commitAtSplit, 'the minority committed');
      return old.raft!.role !== 'leader';
    }, 600);
    assert.ok(steppedDown, 'the partitioned leader did not step down');
    const next = awaitLeader(sim, 2000, minority);
    assert.deepEqual(put(sim, next.id, 'k', 'majority'), written);
    sim.runUntil(() => minorityAnswer !== 'pending', 1000);
    assert.ok(minorityAnswer === null || (minorityAnswer as { kind: string }).kind === 'refused');
    sim.healAll();
    awaitConvergence(sim);
    for (const server of sim.servers.values()) assert.equal(server.kv.get('k'), 'majority');
    assertLinearizable(sim);
  });

  for (const preVote of [true, false]) {
    test(`a follower rejoining after isolation ${preVote ? 'does not disrupt the leader (pre-vote)' : 'deposes the leader without pre-vote'}`, () => {
      const sim = scenario({ raft: { preVote } });
      const leader = awaitLeader(sim);
      const { term } = leader.raft!;
      const loner = [...sim.servers.keys()].find((id) => id !== leader.id)!;
      sim.network.partition([[loner], [...sim.servers.keys()].filter((id) => id !== loner)]);
      sim.run(1500);
      const lonerTerm = sim.server(loner).raft!.term;
      sim.network.heal();
      sim.run(1000);
      const now = awaitLeader(sim);
      if (preVote) {
        assert.equal(lonerTerm, term, 'the isolated follower raised its term');
        assert.equal(now.id, leader.id);
        assert.equal(now.raft!.term, term);
      } else {
        assert.ok(lonerTerm > term + 3, 'without pre-vote the isolated follower keeps raising its term');
        assert.ok(now.raft!.term > term, 'without pre-vote the rejoining follower forces an election');
      }
      // Either way writes flow again after healing.
      assert.deepEqual(put(sim, now.id, 'k', 'v'), written);
    });
  }
});

describe('log replication', () => {
  test('a follower that fell behind the compacted log catches up through InstallSnapshot', () => {
    const sim = scenario({ settings: { snapshotEvery: 10, keepTrailing: 2 } });
    const leader = awaitLeader(sim);
    const lagging = [...sim.servers.keys()].find((id) => id !== leader.id)!;
    sim.crash(lagging);
    for (let i = 0; i < 60; i++) assert.deepEqual(put(sim, leader.id, `k${i % 7}`, `v${i}`), written);
    assert.ok(sim.server(leader.id).disk.live.storage.firstIndex() > 3, 'the leader compacted its log');
    sim.restart(lagging);
    awaitConvergence(sim);
    assert.ok((sim.counts.get('snapshots installed') ?? 0) >= 1, 'no snapshot was installed');
    assert.equal(sim.server(lagging).kv.digest(), leader.kv.digest());
    assertLinearizable(sim);
  });
});

describe('membership', () => {
  test('add a non-voter, promote it, add a voter, remove the leader', () => {
    const sim = scenario({ voters: 3, spares: 2 });
    const first = awaitLeader(sim);
    assert.deepEqual(put(sim, first.id, 'k', 'v1'), written);
    changeMembership(sim, { kind: 'add-learner', node: 'n4' });
    awaitConvergence(sim);
    assert.equal(sim.server('n4').kv.get('k'), 'v1');
    assert.deepEqual(first.raft!.status().membership.learners, ['n4']);
    changeMembership(sim, { kind: 'promote', node: 'n4' });
    changeMembership(sim, { kind: 'add-voter', node: 'n5' });
    assert.deepEqual([...first.raft!.status().membership.voters].sort(), ['n1', 'n2', 'n3', 'n4', 'n5']);
    changeMembership(sim, { kind: 'remove', node: first.id });
    const next = awaitLeader(sim, 2000, [first.id]);
    assert.deepEqual(
      [...next.raft!.status().membership.voters].sort(),
      ['n1', 'n2', 'n3', 'n4', 'n5'].filter((id) => id !== first.id),
    );
    assert.deepEqual(put(sim, next.id, 'k', 'v2'), written);
    // The removed server never campaigns: the term stays put.
    const { term } = next.raft!;
    sim.run(1500);
    assert.equal(sim.leader()?.raft?.term, term);
    assertLinearizable(sim);
  });

  test('only one membership change at a time', () => {
    const sim = scenario({ voters: 3, spares: 2 });
    const leader = awaitLeader(sim);
    assert.deepEqual(put(sim, leader.id, 'k', 'v'), written);
    leader.drive((raft) => {
      assert.ok(raft.proposeMembershipChange({ kind: 'add-voter', node: 'n4' }).ok);
      assert.deepEqual(raft.proposeMembershipChange({ kind: 'add-voter', node: 'n5' }), {
        ok: false,
        reason: 'change-in-progress',
      });
    });
  });
});

describe('leadership transfer', () => {
  test('hands over to a caught-up follower at once', () => {
    const sim = scenario();
    const leader = awaitLeader(sim);
    assert.deepEqual(put(sim, leader.id, 'k', 'v'), written);
    const target = [...sim.servers.keys()].find((id) => id !== leader.id)!;
    const { term } = leader.raft!;
    const startedAt = sim.queue.now;
    leader.drive((raft) => raft.transferLeadership(target));
    const next = awaitLeader(sim, 500, [leader.id]);
    assert.equal(next.id, target);
    assert.equal(next.raft!.term, term + 1);
    assert.ok(sim.queue.now - startedAt < 50, `transfer took ${sim.queue.now - startedAt} ms`);
    assert.deepEqual(put(sim, target, 'k', 'v2'), written);
    assertLinearizable(sim);
  });

  test('gives up after an election timeout when the target is unreachable', () => {
    const sim = scenario();
    const leader = awaitLeader(sim);
    const target = [...sim.servers.keys()].find((id) => id !== leader.id)!;
    sim.network.partition([[target], [...sim.servers.keys()].filter((id) => id !== target)]);
    leader.drive((raft) => raft.transferLeadership(target));
    assert.equal(perform(sim, leader.id, { kind: 'put', key: 'k', value: 'during' })?.kind, 'refused');
    sim.run(400);
    assert.equal(sim.leader()?.id, leader.id);
    assert.equal(leader.raft!.status().transferee, null);
    assert.deepEqual(put(sim, leader.id, 'k', 'after'), written);
  });
});

describe('reads', () => {
  test('a deposed leader cut off from the cluster does not serve stale lease reads', () => {
    const sim = scenario({ settings: { clockDrift: 0 } });
    const old = awaitLeader(sim);
    assert.deepEqual(put(sim, old.id, 'k', 'v1'), written);
    sim.network.partition([[old.id], [...sim.servers.keys()].filter((id) => id !== old.id)]);
    // Read from the old leader every few ms, all through its fall and its successor's first write.
    const servedByOld: string[] = [];
    for (let at = 0; at < 600; at += 4) {
      sim.queue.schedule(at, () =>
        sim.perform(1, old.id, { kind: 'get', key: 'k', consistent: false }, (answer) => {
          if (answer?.kind === 'value') servedByOld.push(answer.value ?? 'null');
        }),
      );
    }
    const next = awaitLeader(sim, 2000, [old.id]);
    assert.deepEqual(put(sim, next.id, 'k', 'v2'), written);
    sim.run(600);
    assert.ok(servedByOld.length > 5, 'the old leader served no lease reads at all');
    assert.ok(!servedByOld.includes('v2'));
    assertLinearizable(sim);
  });

  test('the checker catches stale lease reads when clocks drift past the lease margin', () => {
    // The negative control for the test above: the leader's clock runs at half speed and followers' at
    // 1.4x, so its lease outlives their refusal to vote and the old leader answers from stale state.
    const sim = scenario({ settings: { clockDrift: 0 }, raft: { leaseTicks: 14 } });
    const old = awaitLeader(sim);
    assert.deepEqual(put(sim, old.id, 'k', 'v1'), written);
    sim.run(48);
    for (const server of sim.servers.values()) server.tickMs = server === old ? 20 : 7;
    sim.network.partition([[old.id], [...sim.servers.keys()].filter((id) => id !== old.id)]);
    const next = awaitLeader(sim, 2000, [old.id]);
    assert.deepEqual(put(sim, next.id, 'k', 'v2'), written);
    assert.deepEqual(perform(sim, old.id, { kind: 'get', key: 'k', consistent: false }), {
      kind: 'value',
      value: 'v1',
    });
    sim.abandonClients();
    assert.equal(checkKvHistory(sim.history).ok, false);
  });

  test('a leader that lost one link keeps its lease: the follower it cannot reach cannot be elected', () => {
    const sim = scenario({ settings: { clockDrift: 0 } });
    const leader = awaitLeader(sim);
    assert.deepEqual(put(sim, leader.id, 'k', 'v1'), written);
    awaitConvergence(sim);
    const cut = [...sim.servers.keys()].find((id) => id !== leader.id)!;
    sim.network.cutLink(leader.id, cut);
    sim.network.cutLink(cut, leader.id);
    // The cut-off follower's log is as up to date as anyone's, so only the third server's refusal to vote
    // while it hears from the leader keeps it from winning. Meanwhile the leader keeps serving lease reads.
    for (let at = 0; at < 800; at += 4) {
      sim.queue.schedule(at, () => sim.perform(1, leader.id, { kind: 'get', key: 'k', consistent: false }));
    }
    const usurped = sim.runUntil(() => sim.leader()?.id !== leader.id, 800);
    if (usurped) put(sim, sim.leader()!.id, 'k', 'v2');
    sim.run(200);
    assertLinearizable(sim);
    assert.ok(!usurped, 'the cut-off follower became leader');
    assert.ok((sim.counts.get('lease reads') ?? 0) > 100);
  });

  test('a leader that handed over leadership stops serving lease reads', () => {
    const sim = scenario({ settings: { clockDrift: 0 } });
    const old = awaitLeader(sim);
    assert.deepEqual(put(sim, old.id, 'k', 'v1'), written);
    const target = [...sim.servers.keys()].find((id) => id !== old.id)!;
    old.drive((raft) => raft.transferLeadership(target));
    // Once the target campaigns, cut the old leader off: it never hears of the new term, and its last lease
    // round is fresh. Only giving up the lease when sending TimeoutNow keeps its reads from going stale.
    assert.ok(sim.runUntil(() => sim.server(target).raft!.role === 'candidate', 100));
    sim.network.partition([[old.id], [...sim.servers.keys()].filter((id) => id !== old.id)]);
    const next = awaitLeader(sim, 100, [old.id]);
    assert.deepEqual(put(sim, next.id, 'k', 'v2'), written);
    assert.equal(old.raft!.role, 'leader');
    assert.notDeepEqual(perform(sim, old.id, { kind: 'get', key: 'k', consistent: false }), {
      kind: 'value',
      value: 'v1',
    });
    assertLinearizable(sim);
  });

  test('ReadIndex reads wait for the new leader to commit in its term, then see every acknowledged write', () => {
    const sim = scenario();
    const old = awaitLeader(sim);
    assert.deepEqual(put(sim, old.id, 'k', 'v1'), written);
    sim.crash(old.id);
    const next = awaitLeader(sim, 2000, [old.id]);
    // Asked right at election time, before the new leader's no-op is committed.
    assert.deepEqual(perform(sim, next.id, { kind: 'get', key: 'k', consistent: true }), {
      kind: 'value',
      value: 'v1',
    });
    assertLinearizable(sim);
  });
});
