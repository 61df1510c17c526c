import type { GossipConfig } from '../../../src/gossip/core/config.ts';
import { suspicionTimeout } from '../../../src/gossip/core/timing.ts';
import { GossipSimulation, lanNetwork, type NetworkModel, type SimNode } from './simulation.ts';

// The three measurements: how fast a join spreads, how fast a crash is agreed on, and how often healthy
// members are declared failed on a lossy network.

/** The share of members that must know, as memberlist's convergence simulator counts it. */
export const CONVERGED = 0.9999;

export interface SpreadResult {
  /** Members that had to learn it (the cluster minus the subject). */
  audience: number;
  /** ms from the cause until half, 99% and 99.99% of the audience knew; null if it never got there. */
  half: number | null;
  p99: number | null;
  converged: number | null;
  /** How many knew when the measurement ended. */
  reached: number;
}

export interface FalsePositiveResult {
  durationMs: number;
  loss: number;
  /** `fail` events about members that were up, summed over all observers. */
  failEvents: number;
  /** Distinct healthy members someone declared failed. */
  membersDeclaredFailed: number;
  /** Times members had to refute a suspicion (incarnations raised). */
  refutations: number;
  /** Highest Lifeguard health score at the end, and its mean. */
  maxHealth: number;
  meanHealth: number;
  packets: number;
  lost: number;
}

export interface ScenarioOptions {
  seed: number;
  nodes: number;
  config?: Partial<GossipConfig>;
  network?: NetworkModel;
  /** How long the cluster runs before measuring. */
  warmupMs?: number;
}

function spread(start: number, times: number[], audience: number): SpreadResult {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (share: number) => {
    const needed = Math.ceil(share * audience);
    return sorted.length >= needed ? sorted[needed - 1]! - start : null;
  };
  return { audience, half: at(0.5), p99: at(0.99), converged: at(CONVERGED), reached: sorted.length };
}

/** A converged cluster; one new node joins through one member. Time until the others know it alive. */
export function measureJoin(options: ScenarioOptions, limitMs = 60_000): SpreadResult {
  const sim = new GossipSimulation({ seed: options.seed, network: options.network, config: options.config });
  const cluster = sim.addConvergedCluster(options.nodes);
  sim.runFor(options.warmupMs ?? 5000);

  const learned: number[] = [];
  let newcomer: SimNode | null = null;
  sim.onEvent = (node, event, now) => {
    if (
      event.type === 'join' &&
      newcomer !== null &&
      event.member.name === newcomer.name &&
      node !== newcomer
    ) {
      learned.push(now);
    }
  };
  const start = sim.now;
  newcomer = sim.addNode();
  newcomer.core.join([cluster[0]!.address], start);
  sim.flush(newcomer);
  const needed = Math.ceil(CONVERGED * cluster.length);
  sim.runFor(limitMs, () => learned.length >= needed);
  return spread(start, learned, cluster.length);
}

/** A converged cluster; one member crashes. Time until the others have declared it failed. */
export function measureFailure(options: ScenarioOptions, limitMs = 180_000): SpreadResult {
  const sim = new GossipSimulation({ seed: options.seed, network: options.network, config: options.config });
  const cluster = sim.addConvergedCluster(options.nodes);
  sim.runFor(options.warmupMs ?? 5000);

  const victim = cluster[1 + sim.random.int(cluster.length - 1)]!;
  const declared: number[] = [];
  sim.onEvent = (node, event, now) => {
    if (event.type === 'fail' && event.member.name === victim.name && node.up) declared.push(now);
  };
  const start = sim.now;
  sim.crash(victim);
  const audience = cluster.length - 1;
  const needed = Math.ceil(CONVERGED * audience);
  sim.runFor(limitMs, () => declared.length >= needed);
  return spread(start, declared, audience);
}

/** A converged cluster on a lossy network with nobody failing, for `durationMs`: every failure is false. */
export function measureFalsePositives(
  options: ScenarioOptions,
  loss: number,
  durationMs: number,
): FalsePositiveResult {
  const network = { ...(options.network ?? lanNetwork), loss };
  const sim = new GossipSimulation({ seed: options.seed, network, config: options.config });
  const cluster = sim.addConvergedCluster(options.nodes);
  let failEvents = 0;
  const declared = new Set<string>();
  sim.onEvent = (_node, event) => {
    if (event.type === 'fail') {
      failEvents++;
      declared.add(event.member.name);
    }
  };
  sim.runFor(durationMs);
  let refutations = 0;
  let maxHealth = 0;
  let totalHealth = 0;
  for (const node of cluster) {
    refutations += node.core.localMember().incarnation - 1;
    maxHealth = Math.max(maxHealth, node.core.healthScore());
    totalHealth += node.core.healthScore();
  }
  return {
    durationMs,
    loss,
    failEvents,
    membersDeclaredFailed: declared.size,
    refutations,
    maxHealth,
    meanHealth: totalHealth / cluster.length,
    packets: sim.stats.packets,
    lost: sim.stats.lost,
  };
}

/** The least time a crash can take to be declared: the suspicion timeout with every confirmation in. */
export function minimumSuspicionMs(nodes: number, config: Partial<GossipConfig> = {}): number {
  return suspicionTimeout(config.suspicionMult ?? 4, nodes, config.probeIntervalMs ?? 1000);
}
