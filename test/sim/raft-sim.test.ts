import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ChaosBudget, runChaosSeed, type SeedOutcome } from './chaos.ts';

// Randomized deterministic simulation: every seed picks a 3- or 5-server cluster (with spare servers to add),
// a lossy, duplicating, reordering network, and a stream of partitions, crashes, membership changes,
// leadership transfers and compactions, under a client workload. Invariants are checked on every event;
// after healing, writes must resume and members converge; the history must be linearizable.
//
//   TRIBUNE_SIM_SEEDS=N        run seeds 1..N (default 1000)
//   TRIBUNE_SIM_FIRST_SEED=F   start at seed F instead of 1
//   TRIBUNE_SIM_SEED=S         replay seed S alone, with its fault log

const budget: ChaosBudget = { chaosMs: 4000, recoveryMs: 3000 };
const replayCommand = (seed: number) =>
  `TRIBUNE_SIM_SEED=${seed} node scripts/run-tests.mjs test/sim/raft-sim.test.ts`;

function describeFailure(outcome: SeedOutcome): string {
  return `seed ${outcome.seed} failed (replay: ${replayCommand(outcome.seed)})\n${outcome.summary}\n${outcome.failure}`;
}

const replay = process.env.TRIBUNE_SIM_SEED;

if (replay !== undefined) {
  test(`replay of seed ${replay}`, (t) => {
    const outcome = runChaosSeed(Number(replay), budget);
    t.diagnostic(outcome.summary);
    t.diagnostic([...outcome.counts].map(([event, count]) => `${count} ${event}`).join(', '));
    assert.equal(outcome.failure, null, describeFailure(outcome));
  });
} else {
  const count = Number(process.env.TRIBUNE_SIM_SEEDS ?? 1000);
  const first = Number(process.env.TRIBUNE_SIM_FIRST_SEED ?? 1);
  test(`${count} random seeds from ${first}`, (t) => {
    const started = performance.now();
    const totals = new Map<string, number>();
    const failures: SeedOutcome[] = [];
    for (let seed = first; seed < first + count; seed++) {
      const outcome = runChaosSeed(seed, budget);
      for (const [event, n] of outcome.counts) totals.set(event, (totals.get(event) ?? 0) + n);
      if (outcome.failure !== null) failures.push(outcome);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    t.diagnostic(
      `${count} seeds in ${seconds} s: ${[...totals].map(([event, n]) => `${n} ${event}`).join(', ')}`,
    );
    assert.equal(failures.length, 0, failures.slice(0, 3).map(describeFailure).join('\n\n'));
  });
}
