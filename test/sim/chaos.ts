import type { RaftOptions } from '../../src/raft/core/config.ts';
import type { MembershipChange } from '../../src/raft/core/membership.ts';
import { isMember, membersOf } from '../../src/raft/core/membership.ts';
import { type Random, seededRandom } from '../../src/raft/core/prng.ts';
import type { NodeId } from '../../src/raft/core/types.ts';
import { checkKvHistory } from './linearizability.ts';
import type { NetworkFaults } from './network.ts';
import { defaultSettings, defaultWorkload, Simulation } from './simulation.ts';

export interface ChaosBudget {
  /** Simulated ms of faults. */
  chaosMs: number;
  /** Simulated ms allowed, once everything is healed, for writes to resume and all members to converge. */
  recoveryMs: number;
}

export interface SeedOutcome {
  seed: number;
  /** Why the seed failed; null if it passed. */
  failure: string | null;
  summary: string;
  /** Events counted during the run (leaders elected, snapshots installed, operations checked...). */
  counts: Map<string, number>;
}

/** Picks a cluster and a fault mix from the seed, runs faults, heals, then checks recovery and history. */
export function runChaosSeed(seed: number, budget: ChaosBudget): SeedOutcome {
  const random = seededRandom(seed ^ 0x5eed);
  const voters = random.float() < 0.5 ? 3 : 5;
  const spares = random.int(3);
  const sim = new Simulation({
    seed,
    voters,
    spares,
    settings: {
      ...defaultSettings,
      raft: tightLimits(random),
      syncMs: [0.2, 1 + random.float() * 8],
      snapshotEvery: 8 + random.int(40),
      keepTrailing: random.int(6),
    },
    clients: 4,
    workload: { ...defaultWorkload, timeoutMs: 100 + random.int(300) },
  });
  const faults = new FaultInjector(sim, random, noisyNetwork(random));
  const outcome = (failure: string | null): SeedOutcome => ({
    seed,
    failure,
    summary: `${voters}+${spares} servers, ${sim.history.length} operations; faults: ${faults.log.join(' ')}`,
    counts: new Map([...sim.counts, ['operations checked', sim.history.length]]),
  });
  try {
    sim.startClients();
    const end = sim.queue.now + budget.chaosMs;
    while (sim.queue.now < end) {
      sim.run(30 + random.int(250));
      faults.strike();
    }
    return outcome(recover(sim, budget.recoveryMs) ?? checkHistory(sim));
  } catch (error) {
    return outcome(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
}

/** Small windows and byte caps, so that flow control, batching limits and partial applies come into play. */
function tightLimits(random: Random): Partial<RaftOptions> {
  return {
    maxInflightMessages: 1 + random.int(8),
    maxMessageBytes: 50 + random.int(2000),
    maxApplyBytes: 50 + random.int(2000),
  };
}

function noisyNetwork(random: Random): NetworkFaults {
  return {
    dropRate: random.float() * 0.05,
    duplicateRate: random.float() * 0.03,
    minDelay: 0.5,
    maxDelay: 1 + random.float() * 5,
    slowRate: random.float() * 0.05,
    slowDelay: 100 + random.float() * 200,
  };
}

/** Heals everything; then writes must resume and every member must converge on the same state. */
function recover(sim: Simulation, recoveryMs: number): string | null {
  sim.healAll();
  const healedAt = sim.queue.now;
  const acknowledged = () =>
    sim.history.some(
      (entry) => entry.complete !== null && entry.invoke >= healedAt && entry.op.kind !== 'get',
    );
  if (!sim.runUntil(acknowledged, recoveryMs, 10))
    return `no write was acknowledged within ${recoveryMs} ms of healing`;
  sim.stopClients();
  if (!sim.runUntil(() => converged(sim), recoveryMs, 10)) {
    const states = [...sim.servers.values()].map(
      (s) => `${s.id}: ${JSON.stringify(s.raft?.status())} applied ${s.applied}`,
    );
    return `members did not converge within ${recoveryMs} ms of healing:\n${states.join('\n')}`;
  }
  return null;
}

function converged(sim: Simulation): boolean {
  const leader = sim.leader();
  if (!leader) return false;
  const raft = leader.raft!;
  const { commit } = raft;
  const { membership } = raft.status();
  const digest = leader.kv.digest();
  return membersOf(membership).every((id) => {
    const server = sim.server(id);
    return server.applied === commit && server.kv.digest() === digest;
  });
}

function checkHistory(sim: Simulation): string | null {
  sim.abandonClients();
  const result = checkKvHistory(sim.history);
  return result.ok ? null : `${result.reason}: ${result.detail}`;
}

/** Strikes one random fault at a time: partitions, crashes, lossy links, membership changes, transfers. */
class FaultInjector {
  readonly log: string[] = [];

  constructor(
    private readonly sim: Simulation,
    private readonly random: Random,
    noisy: NetworkFaults,
  ) {
    sim.network.faults = noisy;
  }

  strike(): void {
    const roll = this.random.float();
    if (roll < 0.15) this.partition();
    else if (roll < 0.22) this.isolateLeader();
    else if (roll < 0.24) this.cutOneWay();
    else if (roll < 0.3) this.cutBridge();
    else if (roll < 0.45) this.heal();
    else if (roll < 0.6) this.crash();
    else if (roll < 0.75) this.changeMembership();
    else if (roll < 0.85) this.transfer();
    // Otherwise let the cluster be for a while.
  }

  private ids(): NodeId[] {
    return [...this.sim.servers.keys()];
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items[this.random.int(items.length)];
  }

  private partition(): void {
    const ids = this.ids().sort(() => this.random.float() - 0.5);
    const cut = 1 + this.random.int(ids.length - 1);
    const groups = [ids.slice(0, cut), ids.slice(cut)];
    this.sim.network.partition(groups);
    this.log.push(`split[${groups.map((g) => g.join(',')).join('|')}]@${this.sim.queue.now | 0}`);
  }

  private isolateLeader(): void {
    const leader = this.sim.leader();
    if (!leader) return;
    this.sim.network.partition([[leader.id], this.ids().filter((id) => id !== leader.id)]);
    this.log.push(`isolate(${leader.id})@${this.sim.queue.now | 0}`);
  }

  private cutOneWay(): void {
    const from = this.pick(this.ids())!;
    const to = this.pick(this.ids().filter((id) => id !== from))!;
    this.sim.network.cutLink(from, to);
    this.log.push(`cut(${from}>${to})@${this.sim.queue.now | 0}`);
  }

  /** Cuts the link between two servers both ways, while both still reach everyone else. */
  private cutBridge(): void {
    const leader = this.sim.leader();
    const a = leader && this.random.float() < 0.7 ? leader.id : this.pick(this.ids())!;
    const b = this.pick(this.ids().filter((id) => id !== a))!;
    this.sim.network.cutLink(a, b);
    this.sim.network.cutLink(b, a);
    this.log.push(`bridge(${a}|${b})@${this.sim.queue.now | 0}`);
  }

  private heal(): void {
    this.sim.network.heal();
    this.log.push(`heal@${this.sim.queue.now | 0}`);
  }

  private crash(): void {
    const leader = this.sim.leader();
    const up = this.ids().filter((id) => this.sim.server(id).up);
    const victim = leader && this.random.float() < 0.4 ? leader.id : this.pick(up);
    if (!victim) return;
    this.sim.crash(victim);
    const downMs = 20 + this.random.int(800);
    this.sim.queue.schedule(downMs, () => this.sim.restart(victim));
    this.log.push(`crash(${victim},${downMs}ms)@${this.sim.queue.now | 0}`);
  }

  private changeMembership(): void {
    const leader = this.sim.leader();
    if (!leader) return;
    const { membership } = leader.raft!.status();
    const outsiders = this.ids().filter((id) => !isMember(membership, id));
    const options: MembershipChange[] = [
      ...outsiders.map((node) => ({ kind: 'add-learner' as const, node })),
      ...outsiders.map((node) => ({ kind: 'add-voter' as const, node })),
      ...membership.learners.map((node) => ({ kind: 'promote' as const, node })),
      ...membership.learners.map((node) => ({ kind: 'remove' as const, node })),
      ...(membership.voters.length > 3
        ? membership.voters.map((node) => ({ kind: 'remove' as const, node }))
        : []),
    ];
    // Sometimes several at once: all but the first must be refused.
    const burst = this.random.float() < 0.3 ? 3 : 1;
    for (let i = 0; i < burst; i++) {
      const change = this.pick(options);
      if (!change) return;
      let outcome: { ok: boolean; reason?: string } = { ok: false };
      leader.drive((raft) => {
        outcome = raft.proposeMembershipChange(change);
      });
      this.log.push(
        `${change.kind}(${change.node})${outcome.ok ? '' : `:${outcome.reason}`}@${this.sim.queue.now | 0}`,
      );
    }
  }

  private transfer(): void {
    const leader = this.sim.leader();
    if (!leader) return;
    const target = this.pick(leader.raft!.status().membership.voters.filter((id) => id !== leader.id));
    if (!target) return;
    leader.drive((raft) => raft.transferLeadership(target));
    this.log.push(`transfer(${leader.id}>${target})@${this.sim.queue.now | 0}`);
  }
}
