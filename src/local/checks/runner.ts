import type { HealthStatus } from '../../state/types.ts';
import { type AliasOwner, type CatalogView, startAlias } from './alias.ts';
import { probe } from './probes.ts';
import { type CheckSpec, isScheduled, type ScheduledSpec } from './spec.ts';
import { StatusFilter } from './status-filter.ts';

export type Report = (status: HealthStatus, output: string) => void;

/** What a check may need beyond its definition: alias checks read the catalog. */
export interface CheckContext extends AliasOwner {
  catalog: CatalogView;
}

/**
 * A check being run. TTL checks are fed by heartbeats; active checks run on their interval; alias checks follow
 * the catalog.
 */
export interface RunningCheck {
  stop(): void;
  /** Restarts a TTL check's timer, remembering the output sent with it; undefined for other kinds. */
  heartbeat?: (output: string) => void;
}

export function startCheck(spec: CheckSpec, report: Report, context: CheckContext): RunningCheck {
  if (spec.kind === 'ttl') return startTTL(spec.ttlMs, report);
  if (spec.kind === 'alias') return startAlias(spec, context, context.catalog, report);
  if (isScheduled(spec)) return startScheduled(spec, report);
  return { stop: () => undefined };
}

function startTTL(ttlMs: number, report: Report): RunningCheck {
  let timer: NodeJS.Timeout | undefined;
  let lastOutput = '';
  const expire = () =>
    report(
      'critical',
      lastOutput ? `TTL expired (last output before timeout follows): ${lastOutput}` : 'TTL expired',
    );
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(expire, ttlMs);
    timer.unref();
  };
  arm();
  return {
    stop: () => clearTimeout(timer),
    heartbeat: (output) => {
      lastOutput = output;
      arm();
    },
  };
}

/** The first run is staggered randomly within one interval, as Consul does, so checks don't all fire at once. */
function startScheduled(spec: ScheduledSpec, report: Report): RunningCheck {
  const filter = new StatusFilter(spec);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const run = async () => {
    const result = await probe(spec);
    if (stopped) return;
    const status = filter.next(result.status);
    if (status !== undefined) report(status, result.output);
    timer = setTimeout(run, spec.intervalMs);
    timer.unref();
  };
  timer = setTimeout(run, Math.random() * spec.intervalMs);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
