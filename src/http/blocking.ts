import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Read } from '../state/kv-read.ts';
import { WatchSet } from '../state/watch.ts';
import { MINUTE } from '../util/duration.ts';
import type { Consistency, HttpContext, LeaderContact } from './context.ts';
import { badRequest } from './errors.ts';
import { durationParam, has, param, type Query, queryOf, unsignedParam } from './query.ts';

// Consul's blocking queries: with `?index=N` (N > 0) a read waits until its result's index differs from N,
// up to `?wait` (default 5m, max 10m) plus up to wait/16 of jitter, waking only when something it read changes.
// An index lower than N answers at once, so clients notice a reset (snapshot restore) and start over.

const DEFAULT_WAIT_MS = (5 * MINUTE) / 1e6;
const MAX_WAIT_MS = (10 * MINUTE) / 1e6;
const JITTER_FRACTION = 16;

export interface ReadOptions {
  minIndex: number;
  waitMs: number;
  consistency: Consistency;
  /** With a stale read: how stale it may be before the leader answers instead (0 for no bound). */
  maxStaleMs: number;
}

export function readOptions(query: Query): ReadOptions {
  const minIndex = unsignedParam(query, 'index', 'Invalid index') ?? 0;
  const waitNs = durationParam(query, 'wait', 'Invalid wait time');
  const waitMs = waitNs === undefined ? DEFAULT_WAIT_MS : Math.min(waitNs / 1e6, MAX_WAIT_MS);
  const maxStaleNs = durationParam(
    query,
    'max_stale',
    `Invalid max_stale value "${param(query, 'max_stale')}"`,
  );
  const maxStaleMs = (maxStaleNs ?? 0) / 1e6;
  // As in Consul, a positive max_stale asks for a stale read by itself.
  const stale = has(query, 'stale') || maxStaleMs > 0;
  const consistent = has(query, 'consistent');
  if (stale && consistent) throw badRequest('Cannot specify ?stale with ?consistent, conflicting semantics.');
  return {
    minIndex,
    waitMs,
    consistency: stale ? 'stale' : consistent ? 'consistent' : 'default',
    maxStaleMs,
  };
}

/**
 * Waits until the read may be served here. A stale read whose server has not heard from the leader within
 * max_stale is served as a default read instead, as Consul then sends it to the leader.
 */
async function prepareRead(
  ctx: HttpContext,
  options: ReadOptions,
): Promise<{ contact: LeaderContact; consistency: Consistency }> {
  const contact = await ctx.reads.prepare(options.consistency);
  if (
    options.consistency !== 'stale' ||
    options.maxStaleMs === 0 ||
    contact.lastContactMs <= options.maxStaleMs
  ) {
    return { contact, consistency: options.consistency };
  }
  return { contact: await ctx.reads.prepare('default'), consistency: 'default' };
}

/** Runs `read`, blocking as the query string asks, and sets Consul's query meta headers on the reply. */
export async function blockingRead<T>(
  ctx: HttpContext,
  req: FastifyRequest,
  reply: FastifyReply,
  read: (ws: WatchSet) => Read<T>,
): Promise<Read<T>> {
  const options = readOptions(queryOf(req));
  const { contact, consistency } = await prepareRead(ctx, options);
  let ws = new WatchSet();
  let result = read(ws);
  if (options.minIndex > 0 && result.index === options.minIndex) {
    const jitter = Math.random() * (options.waitMs / JITTER_FRACTION);
    const deadline = Date.now() + options.waitMs + jitter;
    const closed = abortOnClose(reply);
    ctx.metrics.blockingQueries.inc();
    try {
      while (result.index === options.minIndex && !closed.signal.aborted) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        const fired = await ctx.store.watches.wait(ws, remaining, closed.signal);
        ws = new WatchSet();
        result = read(ws);
        if (!fired) break;
      }
    } finally {
      ctx.metrics.blockingQueries.dec();
      closed.release();
    }
  }
  setQueryMeta(reply, result.index, contact, consistency);
  return result;
}

export function setQueryMeta(
  reply: FastifyReply,
  index: number,
  contact: LeaderContact,
  consistency: Consistency,
): void {
  reply.header('X-Consul-Index', String(Math.max(index, 1)));
  reply.header('X-Consul-KnownLeader', String(contact.knownLeader));
  reply.header('X-Consul-LastContact', String(Math.round(contact.lastContactMs)));
  reply.header('X-Consul-Effective-Consistency', consistency === 'default' ? 'leader' : consistency);
}

/** Aborts when the client goes away, so a dropped blocking query frees its waiter at once. */
export function abortOnClose(reply: FastifyReply): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.on('close', onClose);
  return { signal: controller.signal, release: () => reply.raw.off('close', onClose) };
}
