import { nodeChecks, nodeServices } from '../../state/catalog-read.ts';
import { lower, type StateDB } from '../../state/schema.ts';
import type { CheckRow, HealthStatus } from '../../state/types.ts';
import { type WatchRegistry, WatchSet } from '../../state/watch.ts';
import type { AliasTarget } from './spec.ts';

// Consul's alias check: mirrors the health of another service instance, or of a node, from the catalog. Its
// status is re-evaluated whenever the aliased node's entry, services or checks change, found by waiting on the
// store's watch registry (every catalog write touching a node's services or checks touches its node key), and
// at least once a minute as Consul does in case an edge was missed.

/** What an alias check reads: on a server agent, its own state store. */
export interface CatalogView {
  readonly db: StateDB;
  readonly watches: WatchRegistry;
}

export interface AliasOwner {
  /** This agent's node: the aliased node when the definition names none. */
  node: string;
  /** The alias check's own ID, left out of the health it mirrors. */
  checkId: string;
}

export interface AliasResult {
  status: HealthStatus;
  output: string;
}

/** Consul's upper bound between re-evaluations, for a missed notification. */
const REFRESH_MS = 60_000;

/**
 * Consul's processChecks: the aliased service's checks and its node's own checks decide; a critical one wins
 * at once, otherwise a warning; with no matching check the service must at least exist on the node.
 */
export function aliasHealth(
  target: AliasTarget,
  checks: readonly CheckRow[],
  serviceExists: (id: string) => boolean,
  skip?: (check: CheckRow) => boolean,
): AliasResult {
  let health: HealthStatus = 'passing';
  let output = 'No checks found.';
  let serviceFound = false;
  for (const check of checks) {
    if (skip?.(check)) continue;
    if (target.node !== '' && lower(target.node) !== lower(check.Node)) continue;
    const serviceMatch = check.ServiceID === target.serviceId;
    if (check.ServiceID !== '' && !serviceMatch) continue;
    if (serviceMatch) serviceFound = true;
    if (check.Status === 'critical' || check.Status === 'warning') {
      health = check.Status;
      output = `Aliased check ${JSON.stringify(check.Name)} failing: ${check.Output}`;
      if (check.Status === 'critical') break;
    } else if (health === 'passing') {
      output = 'All checks passing.';
    }
  }
  if (!serviceFound && !serviceExists(target.serviceId)) {
    health = 'critical';
    output = `Service ${target.serviceId} could not be found on node ${target.node}`;
  }
  return { status: health, output };
}

/** Reads the aliased health from the catalog, recording in `ws` what it depends on. */
export function readAliasHealth(
  db: StateDB,
  ws: WatchSet,
  target: AliasTarget,
  owner: AliasOwner,
): AliasResult {
  const node = target.node || owner.node;
  const checks = nodeChecks(db, ws, node).value;
  const services = nodeServices(db, ws, node).value?.services ?? [];
  const own = lower(node) === lower(owner.node);
  return aliasHealth(
    target,
    checks,
    (id) => services.some((s) => s.ID === id),
    (check) => own && check.CheckID === owner.checkId,
  );
}

/**
 * Runs an alias check: evaluates at once, then again after every change to the aliased node, reporting only
 * when the status or output differs from the last report.
 */
export function startAlias(
  target: AliasTarget,
  owner: AliasOwner,
  catalog: CatalogView,
  report: (status: HealthStatus, output: string) => void,
): { stop(): void } {
  const stopped = new AbortController();
  let last: AliasResult | undefined;
  const run = async () => {
    while (!stopped.signal.aborted) {
      const ws = new WatchSet();
      const result = readAliasHealth(catalog.db, ws, target, owner);
      if (result.status !== last?.status || result.output !== last.output) {
        last = result;
        report(result.status, result.output);
      }
      await catalog.watches.wait(ws, REFRESH_MS, stopped.signal);
    }
  };
  // Not synchronously: the caller finishes registering the check (and queues its catalog write) first.
  queueMicrotask(() =>
    run().catch((err: unknown) =>
      report('critical', `Failure checking aliased node or service: ${(err as Error).message ?? err}`),
    ),
  );
  return { stop: () => stopped.abort() };
}
