import type { ApiClient } from '../api/client.ts';
import { formatDuration } from '../util/duration.ts';
import { sleep } from '../util/sleep.ts';
import { encodeGo, type GoValue } from './go-json.ts';
import type { WatchQuery } from './types.ts';

// The loop of Consul's watch.Plan: a blocking query after another, the handler called when the index moved
// and the result differs from what it last got, and after an error a retry that backs off (5 s × failures²,
// at most 3 min) from index 0. Two guards Consul's loop lacks: an answer that changed nothing waits out a
// minimum interval before the next query, so a server answering at once cannot make the loop spin; and the
// last result survives errors, so a server restart does not hand the handler what it already had.

const RETRY_INTERVAL_MS = 5_000;
const MAX_BACKOFF_MS = 180_000;
/** The least time between the starts of two queries when the first changed nothing. */
const MIN_QUERY_INTERVAL_MS = 1_000;

/** What a watch logs: pino's calling convention, which the agent's logger has and the CLI imitates. */
export interface WatchLogger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

/** Called with each new result; the next query waits until it settles. `signal` aborts when the watch stops. */
export type WatchHandler = (index: bigint, result: GoValue, signal: AbortSignal) => Promise<void>;

export interface RunOptions {
  type: string;
  query: WatchQuery;
  client: ApiClient;
  handler: WatchHandler;
  log: WatchLogger;
  /** Stops the watch, cancelling a query in flight. */
  signal: AbortSignal;
}

/** Runs the watch until `signal` aborts. */
export async function runWatch({ type, query, client, handler, log, signal }: RunOptions): Promise<void> {
  let last: bigint | undefined;
  let waitIndex = 0n;
  let delivered: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    const started = Date.now();
    let answer: Awaited<ReturnType<WatchQuery['fetch']>>;
    try {
      answer = await query.fetch({ client, last, waitIndex, signal });
    } catch (err) {
      if (signal.aborted) return;
      failures++;
      waitIndex = 0n;
      const retryMs = Math.min(RETRY_INTERVAL_MS * failures * failures, MAX_BACKOFF_MS);
      log.error(
        { type, error: (err as Error).message, retry: formatDuration(retryMs * 1e6) },
        'Watch errored',
      );
      await sleep(retryMs, signal);
      continue;
    }
    failures = 0;
    const { index, result } = answer;
    const backwards = query.ordered && last !== undefined && index < last;
    const changed = index !== last;
    // An index that went backwards (a snapshot restore, the newest key deleted) starts over from 0.
    waitIndex = backwards ? 0n : index;
    last = index;
    const encoded = changed ? encodeGo(result) : delivered;
    if (!changed || encoded === delivered) {
      await sleep(MIN_QUERY_INTERVAL_MS - (Date.now() - started), signal);
      continue;
    }
    delivered = encoded;
    await handler(index, result, signal);
  }
}
