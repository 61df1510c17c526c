import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import {
  CONVERGED,
  measureFailure,
  measureFalsePositives,
  measureJoin,
  minimumSuspicionMs,
  type SpreadResult,
} from './scenarios.ts';

// Seeded simulation of GossipCore clusters on memberlist's LAN defaults (see simulation.ts for the network):
// (a) a join spreading, (b) a crash being agreed on, (c) false failures under 10% packet loss.
//
//   TRIBUNE_GOSSIP_NODES=N     cluster size (default 200; 1000 for the full run)
//   TRIBUNE_GOSSIP_SEED=S      seed (default 1; `random` picks one and prints it)
//   TRIBUNE_GOSSIP_LOSS_SECONDS=T  simulated seconds of the lossy run (default 60)

const nodes = Number(process.env.TRIBUNE_GOSSIP_NODES ?? 200);
const seedSetting = process.env.TRIBUNE_GOSSIP_SEED ?? '1';
const seed = seedSetting === 'random' ? randomInt(2 ** 31) : Number(seedSetting);
const lossSeconds = Number(process.env.TRIBUNE_GOSSIP_LOSS_SECONDS ?? 60);
const replay = `TRIBUNE_GOSSIP_SEED=${seed} TRIBUNE_GOSSIP_NODES=${nodes} node scripts/run-tests.mjs test/sim/gossip`;

/** memberlist's convergence simulator (serf's website), default LAN config, 1,000 nodes, no loss. */
const MEMBERLIST_MODEL_MS = 2200;

const seconds = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(2)} s`);
const describeSpread = (r: SpreadResult) =>
  `50% ${seconds(r.half)}, 99% ${seconds(r.p99)}, ${CONVERGED * 100}% ${seconds(r.converged)} ` +
  `(${r.reached}/${r.audience} reached)`;

test(`gossip simulation, ${nodes} nodes, seed ${seed}`, async (t) => {
  t.diagnostic(`replay: ${replay}`);

  await t.test('(a) a join reaches 99.99% of the cluster within seconds', (t) => {
    const started = performance.now();
    const join = measureJoin({ seed, nodes });
    t.diagnostic(`join through one member → known alive by ${describeSpread(join)}`);
    t.diagnostic(
      `memberlist's model (convergence simulator, LAN defaults, 1,000 nodes): ≈${seconds(MEMBERLIST_MODEL_MS)} ` +
        `to ${CONVERGED * 100}%; ours at ${nodes} nodes: ${seconds(join.converged)}`,
    );
    t.diagnostic(`(${((performance.now() - started) / 1000).toFixed(1)} s of CPU)`);
    assert.notEqual(join.converged, null, `the join never reached ${CONVERGED * 100}% (${replay})`);
    assert.ok(
      join.converged! > 0 && join.converged! < 5000,
      `join took ${seconds(join.converged)} (${replay})`,
    );
    // Same seed, same run.
    assert.deepEqual(measureJoin({ seed, nodes }), join, 'a seed replays exactly');
  });

  await t.test('(b) a crash is declared by 99.99% once the suspicion timeout has run', (t) => {
    const started = performance.now();
    const failure = measureFailure({ seed, nodes });
    const floor = minimumSuspicionMs(nodes);
    t.diagnostic(`crash → declared failed by ${describeSpread(failure)}`);
    t.diagnostic(
      `(suspicion timeout with every confirmation in: ${seconds(floor)}; ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s of CPU)`,
    );
    assert.notEqual(failure.converged, null, `the failure never reached ${CONVERGED * 100}% (${replay})`);
    // Nobody may declare the crash before a suspicion could possibly have expired...
    assert.ok(
      failure.half! >= floor,
      `declared after ${seconds(failure.half)}, below ${seconds(floor)} (${replay})`,
    );
    // ...and detection plus the timeout plus spreading the death should not take much longer.
    assert.ok(
      failure.converged! <= floor + 15_000,
      `took ${seconds(failure.converged)} to converge (${replay})`,
    );
  });

  await t.test('(c) 10% packet loss causes (almost) no false failures', (t) => {
    const started = performance.now();
    const fp = measureFalsePositives({ seed, nodes }, 0.1, lossSeconds * 1000);
    t.diagnostic(
      `${fp.loss * 100}% loss for ${lossSeconds} s: ${fp.failEvents} false failure events ` +
        `(${fp.membersDeclaredFailed} healthy members declared failed by anyone), ${fp.refutations} refutations, ` +
        `health score max ${fp.maxHealth} / mean ${fp.meanHealth.toFixed(3)}, ` +
        `${fp.packets} packets (${fp.lost} lost)`,
    );
    t.diagnostic(`(${((performance.now() - started) / 1000).toFixed(1)} s of CPU)`);
    assert.ok(fp.lost > 0 && fp.refutations > 0, `the loss should have bitten (${replay})`);
    assert.ok(
      fp.failEvents <= Math.ceil(nodes / 100),
      `${fp.failEvents} false failure events at ${nodes} nodes (${replay})`,
    );
  });
});
