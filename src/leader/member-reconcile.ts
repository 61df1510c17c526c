import type { Logger } from 'pino';
import { bytesToIp } from '../gossip/address.ts';
import type { SerfEvent, SerfMember } from '../gossip/serf/types.ts';
import type { Applier } from '../state/applier.ts';
import type { CheckInput } from '../state/commands.ts';
import { checkKey, lower } from '../state/schema.ts';
import type { StateStore } from '../state/store.ts';

// The leader keeps the catalog in line with the LAN pool, as Consul's leader does: an alive member is
// registered with a passing serfHealth check, a failed one's serfHealth turns critical, and a member that
// left (or was reaped) is deregistered. Only Consul agents count (role tag consul or node).

const SERF_CHECK_ID = 'serfHealth';
const SERF_CHECK_NAME = 'Serf Health Status';
const ALIVE_OUTPUT = 'Agent alive and reachable';
const FAILED_OUTPUT = 'Agent not live or unreachable';
/** Consul's leader reconciles the whole pool on this interval besides reacting to events. */
const RECONCILE_INTERVAL_MS = 60_000;

export class MemberReconciler {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Events queue behind each other: the catalog sees them in gossip's order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    private readonly applier: Applier,
    private readonly members: () => SerfMember[],
    private readonly log: Logger,
  ) {}

  /** On gaining leadership: reconcile everyone now and on Consul's interval. */
  start(): void {
    this.running = true;
    this.enqueue(() => this.reconcileAll());
    this.timer = setInterval(() => this.enqueue(() => this.reconcileAll()), RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.running = false;
    clearInterval(this.timer);
  }

  handle(event: SerfEvent): void {
    if (!this.running || event.type === 'user') return;
    const { member } = event;
    if (event.type === 'member-reap') this.enqueue(() => this.deregister(member));
    else this.enqueue(() => this.reconcile(member));
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err) => this.log.warn({ err }, 'reconciling a member failed'));
  }

  private async reconcileAll(): Promise<void> {
    for (const member of this.members()) if (this.running) await this.reconcile(member);
  }

  private async reconcile(member: SerfMember): Promise<void> {
    if (!isConsulAgent(member)) return;
    if (member.status === 'alive') await this.ensureHealth(member, 'passing', ALIVE_OUTPUT);
    else if (member.status === 'failed') await this.ensureHealth(member, 'critical', FAILED_OUTPUT);
    else if (member.status === 'left') await this.deregister(member);
  }

  private async ensureHealth(
    member: SerfMember,
    status: 'passing' | 'critical',
    output: string,
  ): Promise<void> {
    const address = bytesToIp(member.addr);
    const node = this.store.db.nodes.get(lower(member.name));
    const check = this.store.db.checks.get(checkKey(member.name, SERF_CHECK_ID));
    if (node?.Address === address && check?.Status === status) return;
    // A failed member that was never registered has nothing to mark.
    if (!node && status === 'critical') return;
    const serfHealth: CheckInput = {
      Node: member.name,
      CheckID: SERF_CHECK_ID,
      Name: SERF_CHECK_NAME,
      Status: status,
      Notes: '',
      Output: output,
      ServiceID: '',
      Type: '',
      Definition: {},
    };
    await this.applier.apply({
      type: 'register',
      now: Date.now(),
      node: {
        ID: member.tags.id ?? node?.ID ?? '',
        Node: member.name,
        Address: address,
        Datacenter: member.tags.dc ?? node?.Datacenter ?? '',
        TaggedAddresses: node?.TaggedAddresses ?? {
          lan: address,
          lan_ipv4: address,
          wan: address,
          wan_ipv4: address,
        },
        Meta: node?.Meta ?? {},
      },
      service: null,
      checks: [serfHealth],
      skipNodeUpdate: node !== undefined && node.Address === address,
    });
  }

  private async deregister(member: SerfMember): Promise<void> {
    if (!isConsulAgent(member) || !this.store.db.nodes.get(lower(member.name))) return;
    this.log.info({ node: member.name }, 'deregistering a member that left');
    await this.applier.apply({
      type: 'deregister',
      now: Date.now(),
      node: member.name,
      serviceId: null,
      checkId: null,
    });
  }
}

const isConsulAgent = (member: SerfMember) => member.tags.role === 'consul' || member.tags.role === 'node';
