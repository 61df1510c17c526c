import { retransmitLimit } from './timing.ts';

/** Something to gossip a bounded number of times. */
export interface Broadcast<T> {
  /** Broadcasts with the same name replace each other (memberlist names its own by node); null never does. */
  name: string | null;
  message: T;
  /** Encoded bytes, to fill packets. */
  size: number;
  /** Called once when the broadcast leaves the queue: sent often enough, replaced or pruned. */
  onFinished?: () => void;
}

interface Queued<T> {
  broadcast: Broadcast<T>;
  transmits: number;
  id: number;
}

/** Fewest transmits first; within a tier the largest first, then the newest. */
const before = <T>(a: Queued<T>, b: Queued<T>) =>
  a.transmits !== b.transmits
    ? a.transmits < b.transmits
    : a.broadcast.size !== b.broadcast.size
      ? a.broadcast.size > b.broadcast.size
      : a.id > b.id;

/**
 * memberlist's TransmitLimitedQueue: broadcasts are handed out freshest first and dropped once sent
 * retransmitMult × ceil(log10(n + 1)) times; a broadcast about a node replaces the queued one about it.
 */
export class TransmitLimitedQueue<T> {
  private items: Queued<T>[] = [];
  private readonly byName = new Map<string, Queued<T>>();
  private idGen = 0;

  constructor(
    public retransmitMult: number,
    /** The cluster size the retransmit limit is computed from, asked at each hand-out. */
    private readonly numNodes: () => number,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** What is queued, in hand-out order, with its transmit count (for tests and diagnostics). */
  view(): { broadcast: Broadcast<T>; transmits: number }[] {
    return this.items.map(({ broadcast, transmits }) => ({ broadcast, transmits }));
  }

  queue(broadcast: Broadcast<T>, initialTransmits = 0): void {
    if (broadcast.name !== null) {
      const old = this.byName.get(broadcast.name);
      if (old !== undefined) {
        this.remove(old);
        old.broadcast.onFinished?.();
      }
    }
    this.idGen++;
    this.insert({ broadcast, transmits: initialTransmits, id: this.idGen });
  }

  /**
   * Broadcasts to piggyback, up to `limit` bytes counting `overhead` more per message: the freshest tier
   * first, the largest that fits within a tier. Each one handed out counts one transmit.
   */
  getBroadcasts(overhead: number, limit: number): T[] {
    if (this.items.length === 0) return [];
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    const picked: Queued<T>[] = [];
    let used = 0;
    for (const item of this.items) {
      const free = limit - used - overhead;
      if (free <= 0) break;
      if (item.broadcast.size > free) continue;
      used += overhead + item.broadcast.size;
      picked.push(item);
    }
    if (picked.length === 0) return [];
    const taken = new Set(picked);
    this.items = this.items.filter((item) => !taken.has(item));
    const out: T[] = [];
    for (const item of picked) {
      out.push(item.broadcast.message);
      if (item.transmits + 1 >= transmitLimit) {
        if (item.broadcast.name !== null) this.byName.delete(item.broadcast.name);
        item.broadcast.onFinished?.();
      } else {
        item.transmits++;
        this.insert(item);
      }
    }
    if (this.items.length === 0) this.idGen = 0;
    return out;
  }

  /** Keeps only the `maxRetain` freshest broadcasts. */
  prune(maxRetain: number): void {
    while (this.items.length > maxRetain) {
      const last = this.items[this.items.length - 1]!;
      this.remove(last);
      last.broadcast.onFinished?.();
    }
  }

  /** Drops everything queued (each one is finished). */
  reset(): void {
    const items = this.items;
    this.items = [];
    this.byName.clear();
    this.idGen = 0;
    for (const item of items) item.broadcast.onFinished?.();
  }

  private insert(item: Queued<T>): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.items[mid]!, item)) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
    if (item.broadcast.name !== null) this.byName.set(item.broadcast.name, item);
  }

  private remove(item: Queued<T>): void {
    const index = this.items.indexOf(item);
    if (index >= 0) this.items.splice(index, 1);
    if (item.broadcast.name !== null && this.byName.get(item.broadcast.name) === item) {
      this.byName.delete(item.broadcast.name);
    }
    if (this.items.length === 0) this.idGen = 0;
  }
}
