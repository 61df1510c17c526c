import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { StateError } from '../../state/errors.ts';
import { getSession, listSessions } from '../../state/session-read.ts';
import type { SessionRow } from '../../state/types.ts';
import { DurationError, durationFromJson, formatDuration, HOUR, SECOND } from '../../util/duration.ts';
import { blockingRead } from '../blocking.ts';
import { decodeBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { applyFilter } from '../filter/index.ts';
import { param, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import { sessionJson } from '../shapes.ts';
import { checkDatacenter } from './catalog.ts';

// /v1/session: sessions for locks and leader election, with Consul's defaults (the agent's node, the
// serfHealth check, a 15 s lock delay, release behavior) and its TTL bounds.

export const SESSION_TTL_MIN = 10 * SECOND;
export const SESSION_TTL_MAX = 24 * HOUR;
const DEFAULT_LOCK_DELAY = 15 * SECOND;
const MAX_LOCK_DELAY = 60 * SECOND;
/** A bare number below this is a count of seconds, as old clients send it. */
const LOCK_DELAY_SECONDS_THRESHOLD = 1000;

const duration = z.union([z.string(), z.number()]).nullish();

const createBody = z.object({
  ID: z.string().nullish(),
  Name: z.string().nullish(),
  Node: z.string().nullish(),
  LockDelay: duration,
  Behavior: z.string().nullish(),
  TTL: duration,
  Checks: z.array(z.string()).nullish(),
  NodeChecks: z.array(z.string()).nullish(),
  ServiceChecks: z.array(z.object({ ID: z.string(), Namespace: z.string().default('') })).nullish(),
  Datacenter: z.string().nullish(),
});

export function sessionRoutes(ctx: HttpContext): Routes {
  const db = ctx.store.db;
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;
  const list = (rows: SessionRow[], req: FastifyRequest) =>
    applyFilter(rows.map(sessionJson), param(queryOf(req), 'filter'));
  return {
    '/v1/session/create': { PUT: (req, reply) => create(ctx, req, reply) },
    '/v1/session/destroy/:id': {
      PUT: async (req, reply) => {
        await ctx.applier.apply({ type: 'session-destroy', now: Date.now(), id: idOf(req) });
        return sendJson(req, reply, true);
      },
    },
    '/v1/session/info/:id': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => getSession(db, ws, idOf(req)));
        return sendJson(req, reply, value ? [sessionJson(value)] : []);
      },
    },
    '/v1/session/node/:id': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => listSessions(db, ws, idOf(req)));
        return sendJson(req, reply, list(value, req));
      },
    },
    '/v1/session/list': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => listSessions(db, ws));
        return sendJson(req, reply, list(value, req));
      },
    },
    '/v1/session/renew/:id': {
      PUT: async (req, reply) => {
        const session = await ctx.sessions.renew(idOf(req));
        if (!session) throw notFound(`Session id '${idOf(req)}' not found`);
        return sendJson(req, reply, [sessionJson(session)]);
      },
    },
  };
}

async function create(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const body = decodeBody(req, createBody, {});
  checkDatacenter(ctx, body.Datacenter);
  const behavior = body.Behavior || 'release';
  if (behavior !== 'release' && behavior !== 'delete')
    throw badRequest(`Invalid Behavior setting '${behavior}'`);
  const ttl = parseTTL(body.TTL);
  const lockDelay = parseLockDelay(body.LockDelay);
  const noChecksGiven = body.Checks == null && body.NodeChecks == null && body.ServiceChecks == null;
  const nodeChecks = noChecksGiven
    ? ['serfHealth']
    : [...new Set([...(body.Checks ?? []), ...(body.NodeChecks ?? [])])];
  const id = await ctx.applier.apply({
    type: 'session-create',
    now: Date.now(),
    session: {
      ID: randomUUID(),
      Name: body.Name ?? '',
      Node: body.Node || ctx.agent.config.nodeName,
      LockDelay: lockDelay,
      Behavior: behavior,
      TTL: ttl === 0 ? '' : formatDuration(ttl),
      NodeChecks: nodeChecks,
      ServiceChecks: body.ServiceChecks ?? [],
      Checks: body.Checks ?? [],
    },
  });
  return sendJson(req, reply, { ID: id });
}

/**
 * A client agent hands session creation to a server, but the session belongs to this agent's node, as
 * Consul's agent fills in its own node name before forwarding: then the session (and the locks it holds)
 * goes when this agent fails. A body that names a node, or is not a JSON object, is passed on as it is.
 */
export function forwardedSessionBody(body: Uint8Array | null, node: string): Uint8Array | null {
  let value: unknown = {};
  try {
    if (body) value = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return body;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return body;
  const fields = Object.entries(value);
  if (fields.some(([key, v]) => key.toLowerCase() === 'node' && v)) return body;
  const rest = fields.filter(([key]) => key.toLowerCase() !== 'node');
  return new Uint8Array(Buffer.from(JSON.stringify({ ...Object.fromEntries(rest), Node: node })));
}

/** Consul answers a bad TTL with a 500 whose text clients such as Patroni parse; keep it exact. */
function parseTTL(value: string | number | null | undefined): number {
  if (value == null || value === '') return 0;
  let ttl: number;
  try {
    ttl = durationFromJson(value);
  } catch (err) {
    if (err instanceof DurationError) throw new StateError(`Session TTL '${value}' invalid: ${err.message}`);
    throw err;
  }
  if (ttl !== 0 && (ttl < SESSION_TTL_MIN || ttl > SESSION_TTL_MAX)) {
    throw new StateError(
      `Invalid Session TTL '${ttl}', must be between [${formatDuration(SESSION_TTL_MIN)}=${formatDuration(SESSION_TTL_MAX)}]`,
    );
  }
  return ttl;
}

function parseLockDelay(value: string | number | null | undefined): number {
  if (value == null || value === '') return DEFAULT_LOCK_DELAY;
  let delay: number;
  try {
    delay =
      typeof value === 'number' && value < LOCK_DELAY_SECONDS_THRESHOLD
        ? value * SECOND
        : durationFromJson(value);
  } catch (err) {
    if (err instanceof DurationError) throw badRequest(`Invalid LockDelay: ${err.message}`);
    throw err;
  }
  if (delay < 0 || delay > MAX_LOCK_DELAY) {
    throw badRequest(
      `Invalid LockDelay '${formatDuration(delay)}', must be between [0s=${formatDuration(MAX_LOCK_DELAY)}]`,
    );
  }
  return delay;
}
