import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AliasResult, aliasHealth, startAlias } from '../../src/local/checks/alias.ts';
import { SingleNodeLog } from '../../src/state/applier.ts';
import type { CheckInput, Command, ServiceInput } from '../../src/state/commands.ts';
import { StateStore } from '../../src/state/store.ts';
import type { CheckRow, HealthStatus } from '../../src/state/types.ts';
import { serviceInput } from '../helpers/state-fixtures.ts';

// The alias check: Consul's aggregation rules on plain check lists, then the runner following a real state
// store through its watch registry.

const row = (
  Node: string,
  ServiceID: string,
  Status: HealthStatus,
  Name = `${Node}/${ServiceID}`,
): CheckRow => ({
  Node,
  CheckID: `${Name}-${Status}`,
  Name,
  Status,
  Notes: '',
  Output: `${Status} output`,
  ServiceID,
  ServiceName: ServiceID,
  ServiceTags: [],
  Type: 'ttl',
  Definition: {},
  CreateIndex: 1,
  ModifyIndex: 1,
});

const web = { node: 'remote', serviceId: 'web' };
const exists = () => true;
const missing = () => false;

describe('aggregation (Consul alias_test cases)', () => {
  test('no checks: passing while the service exists, critical when it does not', () => {
    assert.deepEqual(aliasHealth(web, [], exists), { status: 'passing', output: 'No checks found.' });
    assert.deepEqual(aliasHealth(web, [row('remote', 'db', 'critical')], missing), {
      status: 'critical',
      output: 'Service web could not be found on node remote',
    });
    assert.deepEqual(aliasHealth({ node: '', serviceId: 'web' }, [], missing), {
      status: 'critical',
      output: 'Service web could not be found on node ',
    });
  });

  test('other nodes and other services are ignored; only passing is passing', () => {
    const checks = [
      row('A', 'web', 'critical'),
      row('remote', 'db', 'critical'),
      row('remote', 'web', 'passing'),
    ];
    assert.deepEqual(aliasHealth(web, checks, missing), { status: 'passing', output: 'All checks passing.' });
  });

  test("the node's own checks count: a failing node makes the alias critical", () => {
    const checks = [row('remote', '', 'critical', 'serfHealth'), row('remote', 'web', 'passing')];
    assert.deepEqual(aliasHealth(web, checks, exists), {
      status: 'critical',
      output: 'Aliased check "serfHealth" failing: critical output',
    });
  });

  test('critical beats warning wherever it comes; warning beats passing and keeps its text', () => {
    const warn = row('remote', 'web', 'warning', 'slow');
    const crit = row('remote', 'web', 'critical', 'down');
    const pass = row('remote', 'web', 'passing', 'fine');
    assert.deepEqual(aliasHealth(web, [pass, warn, pass], exists), {
      status: 'warning',
      output: 'Aliased check "slow" failing: warning output',
    });
    assert.deepEqual(aliasHealth(web, [warn, crit, pass], exists), {
      status: 'critical',
      output: 'Aliased check "down" failing: critical output',
    });
    const otherCrit = row('remote', 'web', 'critical', 'later');
    assert.equal(
      aliasHealth(web, [crit, otherCrit], exists).output,
      'Aliased check "down" failing: critical output',
    );
  });

  test('a node alias follows the node checks alone', () => {
    const node = { node: 'remote', serviceId: '' };
    assert.equal(
      aliasHealth(node, [row('remote', 'db', 'critical'), row('remote', '', 'passing')], missing).status,
      'passing',
    );
    assert.equal(
      aliasHealth(node, [row('remote', 'db', 'passing'), row('remote', '', 'critical')], missing).status,
      'critical',
    );
  });

  test('the skipped check (the alias itself) does not count', () => {
    const self = row('remote', '', 'critical', 'me');
    const result = aliasHealth(web, [self, row('remote', 'web', 'passing')], exists, (c) => c === self);
    assert.deepEqual(result, { status: 'passing', output: 'All checks passing.' });
  });
});

const service = (id: string): ServiceInput => serviceInput(id);
const check = (CheckID: string, ServiceID: string, Status: HealthStatus, Output = ''): CheckInput => ({
  Node: 'n1',
  CheckID,
  Name: CheckID,
  Status,
  Notes: '',
  Output,
  ServiceID,
  Type: 'ttl',
  Definition: {},
});
const node = { ID: '', Node: 'n1', Address: '127.0.0.1', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} };
const register = (svc: ServiceInput | null, checks: CheckInput[]): Command => ({
  type: 'register',
  now: Date.now(),
  node,
  service: svc,
  checks,
  skipNodeUpdate: false,
});

/** Collects reports; `next` resolves with the next one, however it is scheduled. */
function recorder() {
  const queue: AliasResult[] = [];
  let wake: (() => void) | undefined;
  return {
    report: (status: HealthStatus, output: string) => {
      queue.push({ status, output });
      wake?.();
    },
    async next(): Promise<AliasResult> {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return queue.shift()!;
    },
    pending: () => queue.length,
  };
}

describe('runner on a state store', () => {
  test('reports at once, then on each change of the aliased instance, and stops watching when stopped', async () => {
    const store = new StateStore();
    const log = new SingleNodeLog(store);
    await log.apply(register(service('web'), [check('web-ttl', 'web', 'critical')]));
    const { report, next, pending } = recorder();
    const running = startAlias(
      { node: '', serviceId: 'web' },
      { node: 'n1', checkId: 'alias' },
      store,
      report,
    );

    assert.deepEqual(await next(), { status: 'critical', output: 'Aliased check "web-ttl" failing: ' });
    await log.apply(register(null, [check('web-ttl', 'web', 'passing')]));
    assert.deepEqual(await next(), { status: 'passing', output: 'All checks passing.' });
    await log.apply(register(null, [check('web-ttl', 'web', 'warning', 'slow')]));
    assert.deepEqual(await next(), { status: 'warning', output: 'Aliased check "web-ttl" failing: slow' });

    // Its own status, written to the same node, wakes it but changes nothing: no report, no loop.
    await log.apply(register(null, [check('alias', '', 'critical')]));
    await log.apply(register(null, [check('web-ttl', 'web', 'warning', 'slower')]));
    assert.deepEqual(await next(), { status: 'warning', output: 'Aliased check "web-ttl" failing: slower' });

    await log.apply({ type: 'deregister', now: Date.now(), node: 'n1', serviceId: 'web', checkId: null });
    assert.deepEqual(await next(), { status: 'critical', output: 'Service web could not be found on node ' });

    running.stop();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(store.watches.size, 0, 'a stopped alias leaves no waiter behind');
    await log.apply(register(service('web'), []));
    assert.equal(pending(), 0);
  });

  test('a snapshot restore wakes it like any other change', async () => {
    const store = new StateStore();
    const log = new SingleNodeLog(store);
    await log.apply(register(service('web'), [check('web-ttl', 'web', 'passing')]));
    const saved = store.snapshot();
    const { report, next } = recorder();
    const running = startAlias(
      { node: 'n1', serviceId: 'web' },
      { node: 'other', checkId: 'alias' },
      store,
      report,
    );
    assert.equal((await next()).status, 'passing');
    await log.apply(register(null, [check('web-ttl', 'web', 'critical')]));
    assert.equal((await next()).status, 'critical');
    store.restore(saved);
    assert.equal((await next()).status, 'passing');
    running.stop();
  });
});
