import type { Logger } from 'pino';
import type { Applier } from '../state/applier.ts';
import type { CheckInput, NodeInput, ServiceInput } from '../state/commands.ts';
import type { HealthStatus } from '../state/types.ts';
import { ChangeSignal } from './changes.ts';
import { truncateOutput } from './ttl-output.ts';

// What this agent itself registered: its services and checks, the TTL timers behind them, maintenance mode,
// and the reaping of services whose checks stay critical. Every change is written through to the catalog in
// order; a later issue moves that to anti-entropy against remote servers.

export interface LocalCheck {
  check: CheckInput;
  /** TTL checks go critical when not updated within this many milliseconds. */
  ttlMs: number | null;
  /** Deregister the check's service after it has been critical this long (milliseconds). */
  deregisterCriticalAfterMs: number | null;
  criticalSince: number | null;
}

export class UnknownCheckError extends Error {}
export class NotTTLCheckError extends Error {}

const NODE_MAINTENANCE_ID = '_node_maintenance';
const serviceMaintenanceId = (serviceId: string) => `_service_maintenance:${serviceId}`;
const REAP_INTERVAL_MS = 30_000;

export class LocalAgent {
  private readonly services = new Map<string, ServiceInput>();
  private readonly checks = new Map<string, LocalCheck>();
  private readonly ttlTimers = new Map<string, NodeJS.Timeout>();
  private readonly reaper: NodeJS.Timeout;
  private writes: Promise<unknown> = Promise.resolve();
  /** Fires whenever a local service or check changes. */
  readonly changes = new ChangeSignal();

  constructor(
    private readonly self: NodeInput,
    private readonly applier: Applier,
    private readonly log: Logger,
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
  async addService(service: ServiceInput, checks: LocalCheck[], replaceChecks = false): Promise<void> {
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
    if (local.ttlMs === null) throw new NotTTLCheckError(`CheckID "${id}" does not have associated TTL`);
    this.armTTL(local);
    this.setStatus(local, status, truncateOutput(output));
    await this.syncCheck(id);
  }

  async setNodeMaintenance(enable: boolean, reason: string): Promise<void> {
    await this.setMaintenance(NODE_MAINTENANCE_ID, '', 'Node Maintenance Mode', enable, reason);
  }

  async setServiceMaintenance(serviceId: string, enable: boolean, reason: string): Promise<void> {
    const id = serviceMaintenanceId(serviceId);
    await this.setMaintenance(id, serviceId, 'Service Maintenance Mode', enable, reason);
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
    for (const timer of this.ttlTimers.values()) clearTimeout(timer);
    this.ttlTimers.clear();
  }

  private async setMaintenance(
    id: string,
    serviceId: string,
    name: string,
    enable: boolean,
    reason: string,
  ): Promise<void> {
    if (!enable) {
      await this.removeCheck(id);
      return;
    }
    if (this.checks.has(id)) return;
    const notes = reason || 'Maintenance mode is enabled for this node or service. To disable, use the API.';
    await this.addCheck({
      check: {
        Node: this.self.Node,
        CheckID: id,
        Name: name,
        Status: 'maintenance',
        Notes: notes,
        Output: '',
        ServiceID: serviceId,
        Type: 'maintenance',
        Definition: {},
      },
      ttlMs: null,
      deregisterCriticalAfterMs: null,
      criticalSince: null,
    });
  }

  private trackCheck(local: LocalCheck): void {
    const id = local.check.CheckID;
    this.checks.set(id, local);
    local.criticalSince = local.check.Status === 'critical' ? Date.now() : null;
    if (local.ttlMs !== null) this.armTTL(local);
    else this.disarmTTL(id);
  }

  private untrackCheck(id: string): boolean {
    this.disarmTTL(id);
    return this.checks.delete(id);
  }

  private armTTL(local: LocalCheck): void {
    const id = local.check.CheckID;
    this.disarmTTL(id);
    const timer = setTimeout(() => {
      this.ttlTimers.delete(id);
      if (this.checks.get(id) !== local) return;
      this.setStatus(local, 'critical', 'TTL expired');
      this.syncCheck(id).catch((err) => this.log.warn({ err, check: id }, 'failed to record TTL expiry'));
    }, local.ttlMs!);
    timer.unref();
    this.ttlTimers.set(id, timer);
  }

  private disarmTTL(id: string): void {
    clearTimeout(this.ttlTimers.get(id));
    this.ttlTimers.delete(id);
  }

  private setStatus(local: LocalCheck, status: HealthStatus, output: string): void {
    if (status === 'critical' && local.check.Status !== 'critical') local.criticalSince = Date.now();
    if (status !== 'critical') local.criticalSince = null;
    local.check = { ...local.check, Status: status, Output: output };
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
