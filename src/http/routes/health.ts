import type { FastifyReply, FastifyRequest } from 'fastify';
import { checkedInstances, checksInState, nodeChecks, serviceChecks } from '../../state/catalog-read.ts';
import { blockingRead } from '../blocking.ts';
import type { HttpContext } from '../context.ts';
import { applyFilter } from '../filter/index.ts';
import { flag, param, params, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import { checkJson, healthEntryJson } from '../shapes.ts';
import { nodeMetaMatcher, withTags } from './catalog.ts';

// /v1/health: checks by node, service and state, and service instances with their health.

export function healthRoutes(ctx: HttpContext): Routes {
  const db = ctx.store.db;
  const nameOf = (req: FastifyRequest) => (req.params as { name: string }).name;
  return {
    '/v1/health/node/:name': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => nodeChecks(db, ws, nameOf(req)));
        return sendJson(req, reply, applyFilter(value.map(checkJson), param(queryOf(req), 'filter')));
      },
    },
    '/v1/health/checks/:name': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => serviceChecks(db, ws, nameOf(req)));
        return sendJson(req, reply, applyFilter(value.map(checkJson), param(queryOf(req), 'filter')));
      },
    },
    '/v1/health/state/:name': {
      GET: async (req, reply) => {
        // Consul does not validate the state: a name that is no status simply matches no check.
        const state = nameOf(req);
        const { value } = await blockingRead(ctx, req, reply, (ws) => checksInState(db, ws, state));
        return sendJson(req, reply, applyFilter(value.map(checkJson), param(queryOf(req), 'filter')));
      },
    },
    '/v1/health/service/:name': { GET: (req, reply) => serviceHealth(ctx, req, reply, false) },
    '/v1/health/connect/:name': { GET: (req, reply) => serviceHealth(ctx, req, reply, true) },
  };
}

async function serviceHealth(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply, connect: boolean) {
  const query = queryOf(req);
  const name = (req.params as { name: string }).name;
  const passingOnly = flag(query, 'passing');
  const { value } = await blockingRead(ctx, req, reply, (ws) =>
    checkedInstances(ctx.store.db, ws, name, connect),
  );
  const matchesMeta = nodeMetaMatcher(req);
  const entries = withTags(value, params(query, 'tag'))
    .filter((entry) => matchesMeta(entry.node))
    .filter((entry) => !passingOnly || entry.checks.every((c) => c.Status === 'passing'))
    .map(healthEntryJson);
  return sendJson(req, reply, applyFilter(entries, param(query, 'filter')));
}
