import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { BenchContext, Section } from './context.ts';
import { HttpTarget } from './load/http-client.ts';
import { alternate, medianOf, retrying, roundCount } from './rounds.ts';
import { CONSUL_SETTINGS } from './systems/consul.ts';
import { awaitDevReady, startDevAgent } from './systems/consul-api.ts';
import { awaitQuiet } from './systems/cpu.ts';
import { type BenchSystem, chooseSystems } from './systems/index.ts';
import { sleep, waitFor } from './systems/net.ts';

// blocking: blocking-query fan-out on one dev agent each (Tribune vs Consul). 10,000 waiters block on
// distinct keys and 1,000 on one hot key (GET /v1/kv/<k>?index=N&wait=5m, one connection each); then one
// write to the hot key, timed until the last of its 1,000 waiters has its answer. Memory per idle waiter
// is the agent's RSS with every waiter registered minus its RSS before, divided by the number of waiters.

interface Result {
  lastMs: number;
  firstMs: number;
  bytesPerWaiter: number;
  earlyAnswers: number;
}

export async function run(ctx: BenchContext): Promise<Section> {
  const { systems, notes } = chooseSystems(['tribune', 'consul']);
  const rounds = roundCount(ctx.quick ? 1 : 3);
  const distinct = ctx.quick ? 1000 : 10_000;
  const hot = ctx.quick ? 100 : 1000;
  const results = await alternate(rounds, systems, (system) => measure(system, distinct, hot), ctx.log);
  const values = (pick: (r: Result) => number) =>
    Object.fromEntries(systems.map((s) => [s.name, medianOf(results.get(s.name), pick)]));
  const early = systems.map(
    (s) => `${s.name} ${results.get(s.name)!.reduce((n, r) => n + r.earlyAnswers, 0)}`,
  );
  return {
    benchmark: 'blocking',
    description: `One dev agent each; ${distinct.toLocaleString('en-US')} waiters on distinct keys + ${hot.toLocaleString('en-US')} on one key, one keep-alive connection each, median of ${rounds} rounds.`,
    rows: [
      {
        metric: `write → last of ${hot} answered, ms`,
        better: 'lower',
        digits: 1,
        values: values((r) => r.lastMs),
      },
      {
        metric: `write → first of ${hot} answered, ms`,
        better: 'lower',
        digits: 1,
        values: values((r) => r.firstMs),
      },
      {
        metric: 'RSS per idle waiter, bytes',
        better: 'lower',
        values: values((r) => r.bytesPerWaiter),
      },
    ],
    notes: [
      ...notes,
      'Dev agents (in-memory state): the figures are about the HTTP layer and the watch registry, not Raft.',
      'Times include the load generator reading 1,000 answers in one Node process, the same for both.',
      `Waiters answered before the write (should be 0): ${early.join(', ')}.`,
      CONSUL_SETTINGS,
    ],
  };
}

async function measure(system: BenchSystem, distinct: number, hot: number): Promise<Result> {
  const { cluster } = await startDevAgent(system.flavor!);
  const member = cluster.members[0]!;
  const total = distinct + hot;
  const target = new HttpTarget(member.url, total + 8);
  const control = new HttpTarget(member.url, 8);
  const abort = new AbortController();
  setMaxListeners(total + 16, abort.signal);
  try {
    await awaitDevReady(member);
    const keys = await createKeys(control, distinct);
    const indexes = await currentIndexes(control, keys);
    await awaitQuiet(member.process.pid);
    const rssBefore = member.process.rss();

    let earlyAnswers = 0;
    let firstEarly = '';
    let writeAt = Number.POSITIVE_INFINITY;
    const hotAnswers: number[] = [];
    const waiter = (key: string, isHot: boolean) =>
      target
        .request('GET', `/v1/kv/${key}?index=${indexes.get(key)}&wait=5m`, undefined, abort.signal)
        .then((reply) => {
          const at = performance.now();
          if (at < writeAt || !isHot || reply.status !== 200) {
            earlyAnswers++;
            if (earlyAnswers === 1)
              firstEarly = `${reply.status} ${key} ${reply.index} ${reply.body.slice(0, 120)}`;
          } else hotAnswers.push(at - writeAt);
        })
        .catch(() => undefined);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < distinct; i++) pending.push(waiter(`bench/w/${i}`, false));
    for (let i = 0; i < hot; i++) pending.push(waiter('bench/hot', true));
    await waitFor(
      'every waiter sent',
      async () => (target.stats().running >= total ? true : undefined),
      120_000,
    );
    await awaitQuiet(member.process.pid);
    await sleep(500);
    const rssWith = member.process.rss();

    writeAt = performance.now();
    await control.expectOk('PUT', '/v1/kv/bench/hot', 'changed');
    await waitFor(
      'every hot waiter answered',
      async () => (hotAnswers.length >= hot ? true : undefined),
      60_000,
      1,
    );
    abort.abort();
    await Promise.all(pending);
    if (firstEarly) console.log(`  ${system.name}: ${earlyAnswers} answered early, first: ${firstEarly}`);
    return {
      lastMs: Math.max(...hotAnswers),
      firstMs: Math.min(...hotAnswers),
      bytesPerWaiter: (rssWith - rssBefore) / total,
      earlyAnswers,
    };
  } finally {
    abort.abort();
    await Promise.all([target.close(), control.close()]).catch(() => undefined);
    await cluster.destroy();
  }
}

/**
 * Each key's X-Consul-Index from a plain GET, as a watcher starts: Consul answers a single key with its
 * ModifyIndex, so one index for every key would not block on most of them.
 */
async function currentIndexes(control: HttpTarget, keys: string[]): Promise<Map<string, string>> {
  const indexes = new Map<string, string>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let k = next++; k < keys.length; k = next++) {
        const reply = await control.expectOk('GET', `/v1/kv/${keys[k]}`);
        if (!reply.index) throw new Error(`no X-Consul-Index on GET /v1/kv/${keys[k]}`);
        indexes.set(keys[k]!, reply.index);
      }
    }),
  );
  return indexes;
}

/** The hot key and `distinct` others, 64 per transaction (Consul's limit on txn operations). */
async function createKeys(control: HttpTarget, distinct: number): Promise<string[]> {
  const value = Buffer.from('initial').toString('base64');
  const keys = ['bench/hot', ...Array.from({ length: distinct }, (_, i) => `bench/w/${i}`)];
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += 64) batches.push(keys.slice(i, i + 64));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let b = next++; b < batches.length; b = next++) {
        const body = JSON.stringify(batches[b]!.map((Key) => ({ KV: { Verb: 'set', Key, Value: value } })));
        await retrying(() => control.expectOk('PUT', '/v1/txn', body));
      }
    }),
  );
  return keys;
}
