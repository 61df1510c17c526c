import type { Logger } from 'pino';
import type { Applier } from '../state/applier.ts';
import type { StateStore } from '../state/store.ts';

/** Consul keeps KV tombstones 15 minutes (tombstone_ttl), reaping them in 30 s steps. */
const TOMBSTONE_TTL_MS = 15 * 60_000;
const GRANULARITY_MS = 30_000;

/**
 * Tombstones keep prefix indexes from going backwards while blocking queries may still hold an old index.
 * Once a tombstone is older than the TTL no such query can be waiting on it, and the leader reaps it.
 */
export class TombstoneReaper {
  private readonly samples: { at: number; index: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly applier: Applier,
    private readonly log: Logger,
    private readonly ttlMs = TOMBSTONE_TTL_MS,
    private readonly granularityMs = GRANULARITY_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.granularityMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = Date.now();
    this.samples.push({ at: now, index: this.store.lastIndex });
    let reapIndex = 0;
    while (this.samples.length > 0 && this.samples[0]!.at <= now - this.ttlMs)
      reapIndex = this.samples.shift()!.index;
    if (reapIndex === 0 || this.store.db.tombstones.size === 0) return;
    this.applier
      .apply({ type: 'tombstone-reap', now, reapIndex })
      .catch((err) => this.log.warn({ err }, 'failed to reap tombstones'));
  }
}
