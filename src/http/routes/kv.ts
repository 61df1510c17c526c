import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KVOp } from '../../state/commands.ts';
import { kvGet, kvKeys, kvList } from '../../state/kv-read.ts';
import { blockingRead } from '../blocking.ts';
import { rawBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { badRequest } from '../errors.ts';
import { applyFilter } from '../filter/index.ts';
import { KV_MAX_VALUE_BYTES } from '../limits.ts';
import { has, param, type Query, queryOf, uint64Param } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import { kvJson } from '../shapes.ts';

// /v1/kv: Consul's KV endpoint, including its quirks (404 with an empty body, `?raw`, the old `seperator`
// spelling, and "Conflicting flags" listing the whole query).

export function kvRoutes(ctx: HttpContext): Routes {
  return {
    '/v1/kv/*': {
      GET: (req, reply) => getKV(ctx, req, reply),
      PUT: (req, reply) => putKV(ctx, req, reply),
      POST: (req, reply) => putKV(ctx, req, reply),
      DELETE: (req, reply) => deleteKV(ctx, req, reply),
      bodyLimit: KV_MAX_VALUE_BYTES,
    },
  };
}

const keyOf = (req: FastifyRequest) => (req.params as { '*': string })['*'] ?? '';

async function getKV(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const query = queryOf(req);
  const key = keyOf(req);
  if (has(query, 'keys')) {
    const separator = param(query, 'separator') ?? param(query, 'seperator') ?? '';
    const { value } = await blockingRead(ctx, req, reply, (ws) => kvKeys(ctx.store.db, ws, key, separator));
    if (value.length === 0 && key !== '') return reply.status(404).send();
    return sendJson(req, reply, value);
  }
  if (has(query, 'recurse')) {
    const { value } = await blockingRead(ctx, req, reply, (ws) => kvList(ctx.store.db, ws, key));
    const entries = applyFilter(
      value.map((row) => kvJson(row)),
      param(query, 'filter'),
    );
    if (entries.length === 0) return reply.status(404).send();
    return sendJson(req, reply, entries);
  }
  if (key === '') throw badRequest('Missing key name');
  const { value } = await blockingRead(ctx, req, reply, (ws) => kvGet(ctx.store.db, ws, key));
  if (!value) return reply.status(404).send();
  if (has(query, 'raw')) {
    return reply
      .type('text/plain; charset=utf-8')
      .header('X-Content-Type-Options', 'nosniff')
      .send(Buffer.from(value.Value ?? new Uint8Array()));
  }
  return sendJson(req, reply, [kvJson(value)]);
}

/** A modify index to compare against: indexes never pass 2^53, so a larger value simply matches nothing. */
function indexParam(query: Query, name: string): number | undefined {
  const value = uint64Param(query, name);
  return value === undefined ? undefined : Number(value);
}

async function putKV(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const query = queryOf(req);
  const key = keyOf(req);
  if (key === '') throw badRequest('Missing key name');
  rejectConflicts(query, ['cas', 'acquire', 'release']);
  const op: KVOp = {
    Verb: 'set',
    Key: key,
    Value: nullIfEmpty(rawBody(req)),
    Flags: uint64Param(query, 'flags') ?? 0,
    Index: 0,
    Session: '',
  };
  const cas = indexParam(query, 'cas');
  if (cas !== undefined) Object.assign(op, { Verb: 'cas', Index: cas });
  if (has(query, 'acquire')) Object.assign(op, { Verb: 'lock', Session: param(query, 'acquire') });
  if (has(query, 'release')) Object.assign(op, { Verb: 'unlock', Session: param(query, 'release') });
  const ok = await ctx.applier.apply({ type: 'kv', now: Date.now(), op });
  return sendJson(req, reply, op.Verb === 'set' ? true : ok);
}

async function deleteKV(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const query = queryOf(req);
  const key = keyOf(req);
  rejectConflicts(query, ['recurse', 'cas']);
  const recurse = has(query, 'recurse');
  if (!recurse && key === '') throw badRequest('Missing key name');
  const cas = indexParam(query, 'cas') ?? 0;
  const verb = recurse ? 'delete-tree' : cas > 0 ? 'delete-cas' : 'delete';
  const op: KVOp = { Verb: verb, Key: key, Value: null, Flags: 0, Index: cas, Session: '' };
  const ok = await ctx.applier.apply({ type: 'kv', now: Date.now(), op });
  return sendJson(req, reply, verb === 'delete-cas' ? ok : true);
}

/** Consul refuses more than one of these flags and echoes the query (Go's sorted url.Values.Encode). */
function rejectConflicts(query: Query, names: string[]): void {
  if (names.filter((name) => has(query, name)).length <= 1) return;
  const encoded = Object.keys(query)
    .sort()
    .flatMap((name) => {
      const values = query[name];
      return (Array.isArray(values) ? values : [values ?? '']).map(
        (v) => `${encodeURIComponent(name)}=${encodeURIComponent(v)}`,
      );
    })
    .join('&');
  throw badRequest(`Conflicting flags: ${encoded}`);
}

function nullIfEmpty(body: Buffer): Uint8Array | null {
  return body.length === 0 ? null : new Uint8Array(body);
}
