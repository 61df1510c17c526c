import type { FastifyReply, FastifyRequest } from 'fastify';
import { newUserEvent, type UserEvent, UserEventError } from '../../agent/user-events.ts';
import { MINUTE } from '../../util/duration.ts';
import { eventIndex } from '../../util/event-index.ts';
import { abortOnClose } from '../blocking.ts';
import { rawBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { badRequest, HttpError } from '../errors.ts';
import { durationParam, param, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';

// /v1/event: fire a user event into the LAN pool, and list the last ones this agent took. Event lists block
// on Consul's event index (from the last event's ID), since events have no Raft index.

const DEFAULT_WAIT_MS = (5 * MINUTE) / 1e6;
const MAX_WAIT_MS = (10 * MINUTE) / 1e6;

export function eventRoutes(ctx: HttpContext): Routes {
  return {
    '/v1/event/fire/:name': {
      PUT: async (req, reply) => {
        const query = queryOf(req);
        const payload = rawBody(req);
        let event: UserEvent;
        try {
          event = newUserEvent({
            Name: (req.params as { name: string }).name,
            Payload: payload.length > 0 ? new Uint8Array(payload) : null,
            NodeFilter: param(query, 'node') ?? '',
            ServiceFilter: param(query, 'service') ?? '',
            TagFilter: param(query, 'tag') ?? '',
          });
          ctx.agent.fireEvent(event);
        } catch (err) {
          if (err instanceof UserEventError) throw new HttpError(500, err.message);
          throw err;
        }
        return sendJson(req, reply, eventJson(event));
      },
    },
    '/v1/event/list': { GET: (req, reply) => list(ctx, req, reply) },
  };
}

async function list(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const query = queryOf(req);
  const name = param(query, 'name');
  const requested = param(query, 'index');
  if (requested !== undefined && !/^\d+$/.test(requested)) throw badRequest('Invalid index');
  const minIndex = requested === undefined ? 0n : BigInt(requested);
  const waitNs = durationParam(query, 'wait', 'Invalid wait time');
  const waitMs = waitNs === undefined ? DEFAULT_WAIT_MS : Math.min(waitNs / 1e6, MAX_WAIT_MS);
  const read = () => {
    const events = ctx.agent.events.list().filter((e) => !name || e.Name === name);
    const last = events.at(-1);
    // No events reads as index 1, so a watch on an empty list blocks instead of spinning.
    return { events, index: last ? eventIndex(last.ID) : 1n };
  };
  let result = read();
  if (minIndex > 0n && result.index === minIndex) {
    const deadline = Date.now() + waitMs + Math.random() * (waitMs / 16);
    const closed = abortOnClose(reply);
    try {
      while (result.index === minIndex && !closed.signal.aborted && Date.now() < deadline) {
        await ctx.agent.events.next(deadline - Date.now(), closed.signal);
        result = read();
      }
    } finally {
      closed.release();
    }
  }
  reply.header('X-Consul-Index', String(result.index));
  return sendJson(req, reply, result.events.map(eventJson));
}

function eventJson(event: UserEvent) {
  return {
    ID: event.ID,
    Name: event.Name,
    Payload: event.Payload ? Buffer.from(event.Payload).toString('base64') : null,
    NodeFilter: event.NodeFilter,
    ServiceFilter: event.ServiceFilter,
    TagFilter: event.TagFilter,
    Version: event.Version,
    LTime: event.LTime,
  };
}
