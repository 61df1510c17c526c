import type { CheckInput, NodeInput, RegisterCommand, ServiceInput } from './commands.ts';
import { StateError } from './errors.ts';
import { unchanged } from './same.ts';
import {
  bumpService,
  bumpTable,
  checkKey,
  connectTarget,
  connectWatchKey,
  lower,
  nodeWatchKey,
  serviceKey,
  type WriteTx,
} from './schema.ts';
import { destroySession, sessionsBoundToCheck } from './session-write.ts';
import type { CheckRow, NodeRow, ServiceRow } from './types.ts';

// Catalog writes, with Consul's rules: services and checks need their node, a check bound to a service needs
// the service, unchanged rows are not rewritten, and health changes move the indexes of every service they
// affect so that blocking health queries wake.

export function register(tx: WriteTx, cmd: RegisterCommand): void {
  if (!cmd.skipNodeUpdate || !tx.db.nodes.get(lower(cmd.node.Node))) ensureNode(tx, cmd.node);
  if (cmd.service) ensureService(tx, cmd.node.Node, cmd.service);
  for (const check of cmd.checks) ensureCheck(tx, { ...check, Node: cmd.node.Node });
}

export function ensureNode(tx: WriteTx, input: NodeInput): NodeRow {
  const { db } = tx;
  const existing = db.nodes.get(lower(input.Node));
  if (input.ID) {
    const holder = [...db.nodes.group('id', lower(input.ID))].find(
      (n) => lower(n.Node) !== lower(input.Node),
    );
    if (holder) {
      throw new StateError(
        `Node ID "${input.ID}" for node "${input.Node}" aliases existing node "${holder.Node}"`,
      );
    }
  }
  if (existing && unchanged(existing, input)) return existing;
  const row: NodeRow = { ...input, CreateIndex: existing?.CreateIndex ?? tx.index, ModifyIndex: tx.index };
  db.nodes.put(row);
  bumpTable(tx, 'nodes');
  touchNode(tx, row.Node);
  return row;
}

export function ensureService(tx: WriteTx, nodeName: string, input: ServiceInput): ServiceRow {
  const { db } = tx;
  const node = requireNode(tx, nodeName);
  const existing = db.services.get(serviceKey(node.Node, input.ID));
  const candidate = { ...input, Node: node.Node };
  if (existing && unchanged(existing, candidate)) return existing;
  const row: ServiceRow = {
    ...candidate,
    CreateIndex: existing?.CreateIndex ?? tx.index,
    ModifyIndex: tx.index,
  };
  db.services.put(row);
  bumpTable(tx, 'services');
  bumpService(tx, row.Service);
  if (existing && lower(existing.Service) !== lower(row.Service)) retireServiceName(tx, existing.Service);
  for (const svc of [existing, row]) {
    const target = svc && connectTarget(svc);
    if (target) tx.db.journal.touch(connectWatchKey(target));
  }
  tx.db.journal.touch(nodeWatchKey(node.Node));
  refreshCheckServiceFields(tx, row);
  return row;
}

export function ensureCheck(tx: WriteTx, input: CheckInput): CheckRow {
  const { db } = tx;
  const node = requireNode(tx, input.Node);
  let service: ServiceRow | undefined;
  if (input.ServiceID) {
    service = db.services.get(serviceKey(node.Node, input.ServiceID));
    if (!service) throw new StateError(`Missing service registration for check "${input.CheckID}"`);
  }
  const candidate: Omit<CheckRow, 'CreateIndex' | 'ModifyIndex'> = {
    ...input,
    Node: node.Node,
    ServiceName: service?.Service ?? '',
    ServiceTags: service?.Tags ?? [],
  };
  const existing = db.checks.get(checkKey(node.Node, input.CheckID));
  if (existing && unchanged(existing, candidate)) return existing;
  const row: CheckRow = {
    ...candidate,
    CreateIndex: existing?.CreateIndex ?? tx.index,
    ModifyIndex: tx.index,
  };
  db.checks.put(row);
  checkChanged(tx, row);
  if (existing?.ServiceName && existing.ServiceName !== row.ServiceName)
    bumpService(tx, existing.ServiceName);
  if (row.Status === 'critical') {
    for (const session of sessionsBoundToCheck(tx, row.Node, row.CheckID)) destroySession(tx, session.ID);
  }
  return row;
}

export function deleteCheck(tx: WriteTx, nodeName: string, checkId: string): boolean {
  const removed = tx.db.checks.remove(checkKey(nodeName, checkId));
  if (!removed) return false;
  checkChanged(tx, removed);
  for (const session of sessionsBoundToCheck(tx, removed.Node, removed.CheckID))
    destroySession(tx, session.ID);
  return true;
}

export function deleteService(tx: WriteTx, nodeName: string, serviceId: string): boolean {
  const { db } = tx;
  const key = serviceKey(nodeName, serviceId);
  const service = db.services.get(key);
  if (!service) return false;
  for (const check of [...db.checks.group('service', key)]) deleteCheck(tx, check.Node, check.CheckID);
  db.services.remove(key);
  bumpTable(tx, 'services');
  bumpService(tx, service.Service);
  retireServiceName(tx, service.Service);
  const target = connectTarget(service);
  if (target) db.journal.touch(connectWatchKey(target));
  db.journal.touch(nodeWatchKey(service.Node));
  return true;
}

export function deleteNode(tx: WriteTx, nodeName: string): boolean {
  const { db } = tx;
  const node = db.nodes.get(lower(nodeName));
  if (!node) return false;
  for (const session of [...db.sessions.group('node', lower(node.Node))]) destroySession(tx, session.ID);
  for (const service of [...db.services.group('node', lower(node.Node))])
    deleteService(tx, node.Node, service.ID);
  for (const check of [...db.checks.group('node', lower(node.Node))])
    deleteCheck(tx, node.Node, check.CheckID);
  db.nodes.remove(lower(node.Node));
  bumpTable(tx, 'nodes');
  db.journal.touch(nodeWatchKey(node.Node));
  return true;
}

function requireNode(tx: WriteTx, nodeName: string): NodeRow {
  const node = tx.db.nodes.get(lower(nodeName));
  if (!node) throw new StateError(`Missing node registration for "${nodeName}"`);
  return node;
}

/** A node's own data or health changed: every service on it shows that in health queries. */
function touchNode(tx: WriteTx, nodeName: string): void {
  tx.db.journal.touch(nodeWatchKey(nodeName));
  for (const service of tx.db.services.group('node', lower(nodeName))) bumpService(tx, service.Service);
}

function checkChanged(tx: WriteTx, check: CheckRow): void {
  bumpTable(tx, 'checks');
  if (check.ServiceID) {
    bumpService(tx, check.ServiceName);
    tx.db.journal.touch(nodeWatchKey(check.Node));
  } else {
    touchNode(tx, check.Node);
  }
}

/** Drops the per-name index of a service name with no instances left; readers fall back to the table index. */
function retireServiceName(tx: WriteTx, name: string): void {
  if (tx.db.services.groupSize('name', lower(name)) === 0)
    tx.db.indexes.set(`service.${lower(name)}`, undefined);
}

/** Checks carry a copy of their service's name and tags; keep it current when the service changes. */
function refreshCheckServiceFields(tx: WriteTx, service: ServiceRow): void {
  for (const check of [...tx.db.checks.group('service', serviceKey(service.Node, service.ID))]) {
    const { CreateIndex: _c, ModifyIndex: _m, ServiceName: _n, ServiceTags: _t, ...input } = check;
    ensureCheck(tx, input);
  }
}
