import type { Read } from './kv-read.ts';
import {
  checkKey,
  connectWatchKey,
  lower,
  nodeWatchKey,
  type StateDB,
  serviceKey,
  serviceWatchKey,
  tableWatchKey,
} from './schema.ts';
import type { CheckRow, NodeRow, ServiceRow } from './types.ts';
import type { WatchSet } from './watch.ts';

// Catalog and health reads. Results come sorted as Consul's memdb iterates them (by node, then ID), and each
// read registers the narrowest watch keys that cover what it returned.

export interface ServiceInstance {
  node: NodeRow;
  service: ServiceRow;
}

export interface CheckedInstance extends ServiceInstance {
  checks: CheckRow[];
}

const byNodeThenId = (a: ServiceRow, b: ServiceRow) =>
  compare(lower(a.Node), lower(b.Node)) || compare(a.ID, b.ID);
const byNodeThenCheck = (a: CheckRow, b: CheckRow) =>
  compare(lower(a.Node), lower(b.Node)) || compare(a.CheckID, b.CheckID);

export function listNodes(db: StateDB, ws: WatchSet): Read<NodeRow[]> {
  ws.add(tableWatchKey('nodes'));
  const nodes = [...db.nodes.values()].sort((a, b) => compare(lower(a.Node), lower(b.Node)));
  return { index: db.tableIndex('nodes'), value: nodes };
}

/** Every service instance, for `/v1/catalog/services` (which groups them by name). */
export function listServiceInstances(db: StateDB, ws: WatchSet): Read<ServiceInstance[]> {
  ws.add(tableWatchKey('services'));
  ws.add(tableWatchKey('nodes'));
  return {
    index: db.maxIndex('services'),
    value: withNodes(db, [...db.services.values()].sort(byNodeThenId)),
  };
}

export function serviceInstances(
  db: StateDB,
  ws: WatchSet,
  name: string,
  connect = false,
): Read<ServiceInstance[]> {
  ws.add(connect ? connectWatchKey(name) : serviceWatchKey(name));
  const rows = [...db.services.group(connect ? 'connect' : 'name', lower(name))].sort(byNodeThenId);
  return { index: serviceIndex(db, name, false), value: withNodes(db, rows) };
}

export function nodeServices(
  db: StateDB,
  ws: WatchSet,
  nodeName: string,
): Read<{ node: NodeRow; services: ServiceRow[] } | undefined> {
  ws.add(nodeWatchKey(nodeName));
  const node = db.nodes.get(lower(nodeName));
  const services = [...db.services.group('node', lower(nodeName))].sort(byNodeThenId);
  return { index: db.maxIndex('nodes', 'services'), value: node && { node, services } };
}

export function nodeChecks(db: StateDB, ws: WatchSet, nodeName: string): Read<CheckRow[]> {
  ws.add(nodeWatchKey(nodeName));
  const checks = [...db.checks.group('node', lower(nodeName))].sort(byNodeThenCheck);
  return { index: db.tableIndex('checks'), value: checks };
}

export function serviceChecks(db: StateDB, ws: WatchSet, name: string): Read<CheckRow[]> {
  ws.add(serviceWatchKey(name));
  const checks: CheckRow[] = [];
  for (const service of db.services.group('name', lower(name))) {
    checks.push(...db.checks.group('service', serviceKey(service.Node, service.ID)));
  }
  return { index: serviceIndex(db, name, true), value: checks.sort(byNodeThenCheck) };
}

/** Checks whose status is `state`, or all of them for `any`. */
export function checksInState(db: StateDB, ws: WatchSet, state: string): Read<CheckRow[]> {
  ws.add(tableWatchKey('checks'));
  const rows = state === 'any' ? db.checks.values() : db.checks.group('status', state);
  return { index: db.tableIndex('checks'), value: [...rows].sort(byNodeThenCheck) };
}

/** Instances of a service with their node's checks and their own, for `/v1/health/service`. */
export function checkedInstances(
  db: StateDB,
  ws: WatchSet,
  name: string,
  connect = false,
): Read<CheckedInstance[]> {
  const { value } = serviceInstances(db, ws, name, connect);
  const entries = value.map(({ node, service }) => {
    ws.add(nodeWatchKey(node.Node));
    const checks = [...db.checks.group('node', lower(node.Node))].filter(
      (c) => c.ServiceID === '' || c.ServiceID === service.ID,
    );
    return { node, service, checks: checks.sort(byNodeThenCheck) };
  });
  return { index: serviceIndex(db, name, true), value: entries };
}

export function getCheck(db: StateDB, nodeName: string, checkId: string): CheckRow | undefined {
  return db.checks.get(checkKey(nodeName, checkId));
}

/** Consul's maxIndexForService: the service name's own index, else the catalog tables'. */
function serviceIndex(db: StateDB, name: string, withChecks: boolean): number {
  return (
    db.serviceIndex(name) ||
    (withChecks ? db.maxIndex('nodes', 'services', 'checks') : db.maxIndex('nodes', 'services'))
  );
}

function withNodes(db: StateDB, rows: ServiceRow[]): ServiceInstance[] {
  return rows.flatMap((service) => {
    const node = db.nodes.get(lower(service.Node));
    return node ? [{ node, service }] : [];
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
