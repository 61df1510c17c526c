import assert from 'node:assert/strict';
import type { RaftOptions } from '../../src/raft/core/config.ts';
import { type MembershipChange, membersOf } from '../../src/raft/core/membership.ts';
import type { NodeId } from '../../src/raft/core/types.ts';
import type { ClientReply, ClientRequest } from './history.ts';
import { checkKvHistory } from './linearizability.ts';
import type { ServerSettings, SimServer } from './server.ts';
import { defaultSettings, defaultWorkload, Simulation } from './simulation.ts';

// Helpers for scripted scenarios: a calm cluster without random clients, driven step by step.

export interface ScenarioOptions {
  seed?: number;
  voters?: number;
  spares?: number;
  raft?: Partial<RaftOptions>;
  settings?: Partial<ServerSettings>;
}

export function scenario(options: ScenarioOptions = {}): Simulation {
  return new Simulation({
    seed: options.seed ?? 1,
    voters: options.voters ?? 3,
    spares: options.spares ?? 0,
    settings: { ...defaultSettings, ...options.settings, raft: options.raft ?? {} },
    clients: 0,
    workload: defaultWorkload,
  });
}

/** Runs until some server other than those in `not` leads, within `ms`; returns it. */
export function awaitLeader(sim: Simulation, ms = 2000, not: NodeId[] = []): SimServer {
  const found = () => {
    const leader = sim.leader();
    return leader !== null && !not.includes(leader.id) ? leader : null;
  };
  assert.ok(
    sim.runUntil(() => found() !== null, ms),
    `no new leader within ${ms} ms`,
  );
  return found()!;
}

/** Performs one client operation and runs the simulation until it settles; null means it timed out. */
export function perform(
  sim: Simulation,
  target: NodeId,
  request: ClientRequest,
  timeoutMs = 400,
): ClientReply | null {
  let answer: ClientReply | null | undefined;
  sim.perform(0, target, request, (settled) => (answer = settled), timeoutMs);
  sim.runUntil(() => answer !== undefined, timeoutMs + 10);
  return answer ?? null;
}

export function put(sim: Simulation, target: NodeId, key: string, value: string): ClientReply | null {
  return perform(sim, target, { kind: 'put', key, value });
}

/** A membership change through the current leader, run until committed there. */
export function changeMembership(sim: Simulation, change: MembershipChange): void {
  const leader = awaitLeader(sim);
  let proposed: ReturnType<NonNullable<SimServer['raft']>['proposeMembershipChange']> | undefined;
  leader.drive((raft) => {
    proposed = raft.proposeMembershipChange(change);
  });
  assert.ok(proposed?.ok, `${change.kind} ${change.node} refused: ${JSON.stringify(proposed)}`);
  const index = proposed.index;
  assert.ok(
    sim.runUntil(() => (sim.leader()?.raft?.commit ?? 0) >= index, 2000),
    `${change.kind} did not commit`,
  );
}

/** Runs until every member that is up has applied the leader's commit index, with the same state. */
export function awaitConvergence(sim: Simulation, ms = 3000): void {
  const converged = () => {
    const leader = sim.leader();
    if (!leader) return false;
    const digest = leader.kv.digest();
    return membersOf(leader.raft!.status().membership)
      .map((id) => sim.server(id))
      .every(
        (server) => !server.up || (server.applied === leader.raft!.commit && server.kv.digest() === digest),
      );
  };
  assert.ok(sim.runUntil(converged, ms, 5), 'servers did not converge');
}

export function assertLinearizable(sim: Simulation): void {
  sim.abandonClients();
  const result = checkKvHistory(sim.history);
  assert.ok(result.ok, result.ok ? '' : `${result.reason}: ${result.detail}`);
}
