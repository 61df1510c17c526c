import type { Logger } from 'pino';
import type { Applier } from '../state/applier.ts';
import type { CheckInput, NodeInput, ServiceInput } from '../state/commands.ts';
import type { HealthStatus } from '../state/types.ts';
import { ChangeSignal } from './changes.ts';
import { truncateOutput } from './check-output.ts';
import type { CatalogView } from './checks/alias.ts';
import { type RunningCheck, startCheck } from './checks/runner.ts';
import type { CheckSpec } from './checks/spec.ts';
import { withDefaultTaggedAddresses } from './tagged-addresses.ts';

// What this agent itself registered: its services and checks, the runners behind them (TTL, HTTP, TCP, UDP, gRPC,
// script, alias), maintenance mode, and the reaping of services whose checks stay critical. Every change is
// written through to the catalog in order; a later issue moves that to anti-entropy against remote servers.

export interface LocalCheck {
  check: CheckInput;
  /** How the check runs: a TTL fed by heartbeats, an active probe on an interval, an alias, or maintenance. */
  spec: CheckSpec;
  /** Deregister the check's service after it has been critical this long (milliseconds). */
  deregisterCriticalAfterMs: number | null;
  criticalSince: number | null;
}

export class UnknownCheckError extends Error {}
export class NotTTLCheckError extends Error {}

const NODE_MAINTENANCE_ID = '_node_maintenance';
const serviceMaintenanceId = (serviceId: string) => `_service_maintenance:${serviceId}`;
const REAP_INTERVAL_MS = 30_000;
const DEFAULT_MAINTENANCE_NOTES =
  'Maintenance mode is enabled for this %s, but no reason was provided. This is a default message.';

export class LocalAgent {
  private readonly services = new Map<string, ServiceInput>();
  private readonly checks = new Map<string, LocalCheck>();
  private readonly runners = new Map<string, RunningCheck>();
  private readonly reaper: NodeJS.Timeout;
  private writes: Promise<unknown> = Promise.resolve();
  /** Fires whenever a local service or check changes. */
  readonly changes = new ChangeSignal();

  constructor(
    private readonly self: NodeInput,
    private readonly applier: Applier,
    private readonly log: Logger,
    /** The catalog alias checks read and watch: a server agent's own state store. */
    private readonly catalog: CatalogView,
  ) {
    this.reaper = setInterval(() => this.reapCriticalServices(), REAP_INTERVAL_MS);
    this.reaper.unref();
  }

  get nodeName(): string {
    return this.self.Node;
  }

  listServices(): ServiceInput[] {
    return [...this.services.values()];
  }

  getService(id: string): ServiceInput | undefined {
    return this.services.get(id);
  }

  listChecks(): LocalCheck[] {
    return [...this.checks.values()];
  }

  getCheck(id: string): LocalCheck | undefined {
    return this.checks.get(id);
  }

  /** Registers (or replaces) a service and its checks; with `replaceChecks`, drops its checks not listed. */
  async addService(definition: ServiceInput, checks: LocalCheck[], replaceChecks = false): Promise<void> {
    const service = withDefaultTaggedAddresses(definition);
    const dropped = replaceChecks
      ? this.listChecks().filter(
          (c) => c.check.ServiceID === service.ID && !checks.some((n) => n.check.CheckID === c.check.CheckID),
        )
      : [];
    this.services.set(service.ID, service);
    for (const check of checks) this.trackCheck(check);
    for (const check of dropped) this.untrackCheck(check.check.CheckID);
    await this.write(async () => {
      await this.applier.apply({
        type: 'register',
        now: Date.now(),
        node: this.self,
        service,
        checks: checks.map((c) => c.check),
        skipNodeUpdate: true,
      });
      for (const check of dropped) await this.deregister({ checkId: check.check.CheckID });
    });
  }

  async removeService(id: string): Promise<boolean> {
    if (!this.services.delete(id)) return false;
    for (const check of this.listChecks())
      if (check.check.ServiceID === id) this.untrackCheck(check.check.CheckID);
    await this.write(() => this.deregister({ serviceId: id }));
    return true;
  }

  async addCheck(check: LocalCheck): Promise<void> {
    this.trackCheck(check);
    await this.syncCheck(check.check.CheckID);
  }

  async removeCheck(id: string): Promise<boolean> {
    if (!this.untrackCheck(id)) return false;
    await this.write(() => this.deregister({ checkId: id }));
    return true;
  }

  /** A TTL heartbeat (`/v1/agent/check/pass` etc.): sets status and output, and restarts the TTL. */
  async updateTTL(id: string, status: HealthStatus, output: string): Promise<void> {
    const local = this.checks.get(id);
    if (!local)
      throw new UnknownCheckError(
        `Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`,
      );
    const heartbeat = this.runners.get(id)?.heartbeat;
    if (!heartbeat) throw new NotTTLCheckError(`CheckID "${id}" does not have associated TTL`);
    heartbeat(output);
    this.setStatus(local, status, output);
    await this.syncCheck(id);
  }

  async setNodeMaintenance(enable: boolean, reason: string): Promise<void> {
    const notes = reason || DEFAULT_MAINTENANCE_NOTES.replace('%s', 'node');
    await this.setMaintenance(NODE_MAINTENANCE_ID, '', 'Node Maintenance Mode', enable, notes);
  }

  async setServiceMaintenance(serviceId: string, enable: boolean, reason: string): Promise<void> {
    const notes = reason || DEFAULT_MAINTENANCE_NOTES.replace('%s', 'service');
    await this.setMaintenance(
      serviceMaintenanceId(serviceId),
      serviceId,
      'Service Maintenance Mode',
      enable,
      notes,
    );
  }

  /** Writes every local service and check to the catalog again (after a snapshot restore replaced it). */
  async resync(): Promise<void> {
    await this.write(async () => {
      for (const service of this.services.values()) {
        const checks = this.listChecks()
          .filter((c) => c.check.ServiceID === service.ID)
          .map((c) => c.check);
        await this.applier.apply({
          type: 'register',
          now: Date.now(),
          node: this.self,
          service,
          checks,
          skipNodeUpdate: true,
        });
      }
      const nodeChecks = this.listChecks()
        .filter((c) => !c.check.ServiceID)
        .map((c) => c.check);
      if (nodeChecks.length > 0) {
        await this.applier.apply({
          type: 'register',
          now: Date.now(),
          node: this.self,
          service: null,
          checks: nodeChecks,
          skipNodeUpdate: true,
        });
      }
    });
  }

  /** Stops timers; the catalog entries stay (a graceful leave deregisters the node separately). */
  close(): void {
    clearInterval(this.reaper);
    for (const runner of this.runners.values()) runner.stop();
    this.runners.clear();
  }

  private async setMaintenance(
    id: string,
    serviceId: string,
    name: string,
    enable: boolean,
    notes: string,
  ): Promise<void> {
    if (!enable) {
      await this.removeCheck(id);
      return;
    }
    if (this.checks.has(id)) return;
    // Consul registers maintenance as a critical check, so it shows in health/state/critical.
    await this.addCheck({
      check: {
        Node: this.self.Node,
        CheckID: id,
        Name: name,
        Status: 'critical',
        Notes: notes,
        Output: '',
        ServiceID: serviceId,
        Type: 'maintenance',
        Definition: {},
      },
      spec: { kind: 'maintenance' },
      deregisterCriticalAfterMs: null,
      criticalSince: null,
    });
  }

  private trackCheck(local: LocalCheck): void {
    const id = local.check.CheckID;
    this.runners.get(id)?.stop();
    this.checks.set(id, local);
    local.criticalSince = local.check.Status === 'critical' ? Date.now() : null;
    const runner = startCheck(
      local.spec,
      (status, output) => {
        if (this.checks.get(id) !== local) return;
        this.setStatus(local, status, output);
        this.syncCheck(id).catch((err) => this.log.warn({ err, check: id }, 'failed to record check status'));
      },
      { catalog: this.catalog, node: this.self.Node, checkId: id },
    );
    this.runners.set(id, runner);
  }

  private untrackCheck(id: string): boolean {
    this.runners.get(id)?.stop();
    this.runners.delete(id);
    return this.checks.delete(id);
  }

  private setStatus(local: LocalCheck, status: HealthStatus, output: string): void {
    if (status === 'critical' && local.check.Status !== 'critical') local.criticalSince = Date.now();
    if (status !== 'critical') local.criticalSince = null;
    local.check = { ...local.check, Status: status, Output: truncateOutput(output) };
  }

  private syncCheck(id: string): Promise<void> {
    return this.write(async () => {
      const local = this.checks.get(id);
      if (!local) return;
      await this.applier.apply({
        type: 'register',
        now: Date.now(),
        node: this.self,
        service: null,
        checks: [local.check],
        skipNodeUpdate: true,
      });
    });
  }

  private async deregister(target: { serviceId?: string; checkId?: string }): Promise<void> {
    await this.applier.apply({
      type: 'deregister',
      now: Date.now(),
      node: this.self.Node,
      serviceId: target.serviceId ?? null,
      checkId: target.checkId ?? null,
    });
  }

  /** Local changes reach the catalog one at a time, in the order they were made. */
  private write(fn: () => Promise<void>): Promise<void> {
    this.changes.notify();
    const next = this.writes.then(fn);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private reapCriticalServices(): void {
    const now = Date.now();
    for (const local of this.checks.values()) {
      const { criticalSince, deregisterCriticalAfterMs } = local;
      if (criticalSince === null || deregisterCriticalAfterMs === null) continue;
      if (now - criticalSince < deregisterCriticalAfterMs || !local.check.ServiceID) continue;
      this.log.info(
        { service: local.check.ServiceID, check: local.check.CheckID },
        'reaping critical service',
      );
      this.removeService(local.check.ServiceID).catch((err) =>
        this.log.warn({ err }, 'failed to reap service'),
      );
    }
  }
}
