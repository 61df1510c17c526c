import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusFilter } from '../../src/local/checks/status-filter.ts';
import type { HealthStatus } from '../../src/state/types.ts';

const run = (
  schedule: { successBeforePassing: number; failuresBeforeWarning: number; failuresBeforeCritical: number },
  observed: HealthStatus[],
) => {
  const filter = new StatusFilter({ intervalMs: 1000, timeoutMs: 1000, ...schedule });
  return observed.map((status) => filter.next(status) ?? '-');
};

test('defaults report every result as it comes', () => {
  assert.deepEqual(
    run({ successBeforePassing: 1, failuresBeforeWarning: 1, failuresBeforeCritical: 1 }, [
      'passing',
      'critical',
      'warning',
    ]),
    ['passing', 'critical', 'warning'],
  );
});

test('SuccessBeforePassing and FailuresBeforeCritical need consecutive results; a break resets the count', () => {
  assert.deepEqual(
    run({ successBeforePassing: 2, failuresBeforeWarning: 3, failuresBeforeCritical: 3 }, [
      'passing',
      'critical',
      'passing',
      'passing',
      'critical',
      'critical',
      'critical',
    ]),
    ['-', '-', '-', 'passing', '-', '-', 'critical'],
  );
});

test('FailuresBeforeWarning reports warning before critical', () => {
  assert.deepEqual(
    run({ successBeforePassing: 1, failuresBeforeWarning: 1, failuresBeforeCritical: 3 }, [
      'critical',
      'critical',
      'critical',
    ]),
    ['warning', 'warning', 'critical'],
  );
});
