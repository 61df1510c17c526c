import type { HealthStatus } from '../../state/types.ts';
import type { Schedule } from './spec.ts';

/**
 * Consul's status handler: passing (or warning) results count as successes and are reported after
 * SuccessBeforePassing in a row; critical results are reported after FailuresBeforeCritical in a row, and
 * reported as warning after FailuresBeforeWarning.
 * Returns the status to report, or undefined to keep the current one.
 */
export class StatusFilter {
  private successes = 0;
  private failures = 0;

  constructor(private readonly schedule: Schedule) {}

  next(observed: HealthStatus): HealthStatus | undefined {
    if (observed !== 'critical') {
      this.failures = 0;
      this.successes++;
      return this.successes >= this.schedule.successBeforePassing ? observed : undefined;
    }
    this.successes = 0;
    this.failures++;
    if (this.failures >= this.schedule.failuresBeforeCritical) return observed;
    if (this.failures >= this.schedule.failuresBeforeWarning) return 'warning';
    return undefined;
  }
}
