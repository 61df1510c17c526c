// Wakes blocking queries. A read records what it looked at in a WatchSet; a commit reports what it touched;
// only waiters whose exact key or KV prefix was touched are woken. An idle waiter costs one closure and one
// Set entry per key it watches, and no timers beyond its own wait deadline.

/** The keys one read depended on. */
export class WatchSet {
  readonly keys = new Set<string>();
  readonly kvPrefixes = new Set<string>();

  add(key: string): void {
    this.keys.add(key);
  }

  addKVPrefix(prefix: string): void {
    this.kvPrefixes.add(prefix);
  }
}

/** What one commit changed: plain keys, and KV keys (which also wake watchers of any of their prefixes). */
export interface Touched {
  keys: Set<string>;
  kvKeys: Set<string>;
}

type Wake = () => void;

export class WatchRegistry {
  private readonly exact = new Map<string, Set<Wake>>();
  private readonly kvPrefixes = new Map<string, Set<Wake>>();
  private waiting = 0;

  /** Number of blocked reads right now. */
  get size(): number {
    return this.waiting;
  }

  /**
   * Resolves true when any key in `ws` is touched, false when `timeoutMs` passes or `signal` aborts first.
   */
  wait(ws: WatchSet, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const finish = (fired: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        for (const key of ws.keys) remove(this.exact, key, wake);
        for (const prefix of ws.kvPrefixes) remove(this.kvPrefixes, prefix, wake);
        this.waiting--;
        resolve(fired);
      };
      const wake: Wake = () => finish(true);
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      for (const key of ws.keys) add(this.exact, key, wake);
      for (const prefix of ws.kvPrefixes) add(this.kvPrefixes, prefix, wake);
      this.waiting++;
    });
  }

  /** Wakes every waiter that depends on something in `touched`. */
  fire(touched: Touched): void {
    const woken = new Set<Wake>();
    for (const key of touched.keys) collect(this.exact.get(key), woken);
    for (const kvKey of touched.kvKeys) {
      collect(this.exact.get(kvWatchKey(kvKey)), woken);
      this.collectPrefixWaiters(kvKey, woken);
    }
    for (const wake of woken) wake();
  }

  /** Wakes everyone: after a snapshot restore nothing read before is still valid. */
  fireAll(): void {
    const woken = new Set<Wake>();
    for (const set of this.exact.values()) collect(set, woken);
    for (const set of this.kvPrefixes.values()) collect(set, woken);
    for (const wake of woken) wake();
  }

  private collectPrefixWaiters(key: string, woken: Set<Wake>): void {
    if (this.kvPrefixes.size === 0) return;
    // Walk whichever is shorter: the key's own prefixes, or the registered prefixes.
    if (this.kvPrefixes.size <= key.length + 1) {
      for (const [prefix, set] of this.kvPrefixes) if (key.startsWith(prefix)) collect(set, woken);
    } else {
      for (let end = 0; end <= key.length; end++) collect(this.kvPrefixes.get(key.slice(0, end)), woken);
    }
  }
}

/** The exact-match watch key of one KV entry. */
export function kvWatchKey(key: string): string {
  return `kv:${key}`;
}

function add(map: Map<string, Set<Wake>>, key: string, wake: Wake): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(wake);
}

function remove(map: Map<string, Set<Wake>>, key: string, wake: Wake): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(wake);
  if (set.size === 0) map.delete(key);
}

function collect(set: Set<Wake> | undefined, into: Set<Wake>): void {
  if (set) for (const wake of set) into.add(wake);
}
