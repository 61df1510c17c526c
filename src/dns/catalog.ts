import { isIP } from 'node:net';
import type { ReadGate } from '../http/context.ts';
import { type CheckedInstance, checkedInstances, nodeServices } from '../state/catalog-read.ts';
import { executeQuery, resolveQuery } from '../state/query-read.ts';
import type { StateStore } from '../state/store.ts';
import type { NodeRow, ServiceRow } from '../state/types.ts';
import { WatchSet } from '../state/watch.ts';
import { canonicalIp } from './names.ts';

// The catalog as DNS sees it: this server's own state, read stale by default as Consul's DNS reads it
// (allow_stale), unless the server has not heard from its leader for longer than max_stale, when the read
// waits for the leader's view like a default-consistency HTTP read.

/** Consul counts stale DNS reads served when the server's last contact with the leader is older than this. */
const STALE_COUNTER_THRESHOLD_MS = 5000;

export interface StalenessPolicy {
  allowStale: boolean;
  maxStaleMs: number;
}

export class DnsCatalog {
  constructor(
    private readonly store: StateStore,
    private readonly reads: ReadGate,
    private readonly policy: StalenessPolicy,
    private readonly onStaleRead: () => void = () => {},
  ) {}

  /** Waits until this server's state may answer; rejects when it may not (no leader for a non-stale read). */
  async ready(): Promise<void> {
    if (this.policy.allowStale) {
      const contact = await this.reads.prepare('stale');
      if (contact.lastContactMs <= this.policy.maxStaleMs) {
        if (contact.lastContactMs > STALE_COUNTER_THRESHOLD_MS) this.onStaleRead();
        return;
      }
    }
    await this.reads.prepare('default');
  }

  /**
   * A prepared query's answer: the instances it returns, its service and DNS TTL (Go duration text, '' for none), or
   * undefined when no query or template matches the name.
   */
  preparedQuery(name: string): { instances: CheckedInstance[]; service: string; ttl: string } | undefined {
    const query = resolveQuery(this.store.db, name);
    if (!query) return undefined;
    const instances = executeQuery(this.store.db, new WatchSet(), query).value;
    return { instances, service: query.Service.Service, ttl: query.DNS.TTL };
  }

  /**
   * Instances of a service (or its Connect-capable instances) that DNS may hand out: a critical check on the
   * instance or its node hides it, and with `onlyPassing` so does any check that is not passing.
   */
  healthyInstances(
    service: string,
    tag: string | undefined,
    connect: boolean,
    onlyPassing: boolean,
  ): CheckedInstance[] {
    const { value } = checkedInstances(this.store.db, new WatchSet(), service, connect);
    return value.filter(
      (instance) =>
        (tag === undefined || instance.service.Tags.some((t) => t.toLowerCase() === tag)) &&
        instance.checks.every((check) =>
          onlyPassing ? check.Status === 'passing' : check.Status !== 'critical',
        ),
    );
  }

  node(name: string): NodeRow | undefined {
    return nodeServices(this.store.db, new WatchSet(), name).value?.node;
  }

  /** The node whose address is `ip`, for reverse lookups. */
  nodeWithAddress(ip: string): NodeRow | undefined {
    const wanted = canonicalIp(ip);
    for (const node of this.store.db.nodes.values()) {
      if (isIP(node.Address) && canonicalIp(node.Address) === wanted) return node;
    }
    return undefined;
  }

  /** A service instance registered with `ip` as its own address, for reverse lookups. */
  serviceWithAddress(ip: string): { service: ServiceRow; node: NodeRow } | undefined {
    const wanted = canonicalIp(ip);
    for (const service of this.store.db.services.values()) {
      if (!isIP(service.Address) || canonicalIp(service.Address) !== wanted) continue;
      const node = this.store.db.nodes.get(service.Node.toLowerCase());
      if (node) return { service, node };
    }
    return undefined;
  }
}
