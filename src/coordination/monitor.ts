import { ApiError } from '../api/client.ts';
import { sleep } from '../util/sleep.ts';

// Consul's monitorLock for locks and semaphores: a consistent blocking read after another for as long as
// ours still holds; the first answer that says otherwise, or an error, means the hold is lost. With retries,
// a 500 (no leader for a moment) is ridden out: the read is retried after a pause, the count reset by any
// answer that still finds us holding.

export interface MonitorOptions {
  retries: number;
  retryTimeMs: number;
}

/** One consistent read: whether we still hold, and the index to block past next. */
export type HoldCheck = (index: bigint, signal: AbortSignal) => Promise<{ held: boolean; index: bigint }>;

/** Watches in the background; the returned signal aborts once the hold is lost or `stop` aborts. */
export function monitorHold(
  check: HoldCheck,
  { retries, retryTimeMs }: MonitorOptions,
  stop: AbortSignal,
): AbortSignal {
  const lost = new AbortController();
  void (async () => {
    let index = 0n;
    let left = retries;
    while (!stop.aborted) {
      let answer: Awaited<ReturnType<HoldCheck>>;
      try {
        answer = await check(index, stop);
      } catch (err) {
        const serverError = err instanceof ApiError && err.status === 500;
        if (serverError && left > 0 && (await sleep(retryTimeMs, stop))) {
          left--;
          index = 0n;
          continue;
        }
        break;
      }
      if (!answer.held) break;
      index = answer.index;
      left = retries;
    }
    lost.abort();
  })();
  return lost.signal;
}
