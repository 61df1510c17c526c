import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { PreparedQueryInput } from '../../state/commands.ts';
import { executeQuery, getQuery, listQueries, resolveQuery } from '../../state/query-read.ts';
import type { PreparedQueryRow } from '../../state/types.ts';
import { DurationError, parseDuration } from '../../util/duration.ts';
import { blockingRead } from '../blocking.ts';
import { decodeBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { HttpError, notFound } from '../errors.ts';
import { queryOf, unsignedParam } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import { healthEntryJson } from '../shapes.ts';

// /v1/query: prepared queries — create, list, read, update, delete, execute and explain, as Consul has them.

const stringMap = z.record(z.string(), z.string());
const definition = z.object({
  Name: z.string().nullish(),
  Session: z.string().nullish(),
  Token: z.string().nullish(),
  Template: z
    .object({
      Type: z.string().nullish(),
      Regexp: z.string().nullish(),
      RemoveEmptyTags: z.boolean().nullish(),
    })
    .nullish(),
  Service: z
    .object({
      Service: z.string().nullish(),
      Failover: z
        .object({ NearestN: z.number().int().nullish(), Datacenters: z.array(z.string()).nullish() })
        .nullish(),
      IgnoreCheckIDs: z.array(z.string()).nullish(),
      OnlyPassing: z.boolean().nullish(),
      Near: z.string().nullish(),
      Tags: z.array(z.string()).nullish(),
      NodeMeta: stringMap.nullish(),
      ServiceMeta: stringMap.nullish(),
      Connect: z.object({ Enabled: z.boolean().nullish() }).nullish(),
    })
    .nullish(),
  DNS: z.object({ TTL: z.string().nullish() }).nullish(),
});

const QUERY_NOT_FOUND = 'Query not found';

export function queryRoutes(ctx: HttpContext): Routes {
  const db = ctx.store.db;
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;
  return {
    '/v1/query': {
      POST: async (req, reply) => {
        const query = toQuery(randomUUID(), decodeBody(req, definition));
        const id = await ctx.applier.apply({ type: 'query-set', now: Date.now(), query });
        return sendJson(req, reply, { ID: id });
      },
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => listQueries(db, ws));
        return sendJson(req, reply, value.map(queryJson));
      },
    },
    '/v1/query/:id': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => getQuery(db, ws, idOf(req)));
        if (!value) throw notFound(QUERY_NOT_FOUND);
        return sendJson(req, reply, [queryJson(value)]);
      },
      PUT: async (req, reply) => {
        const id = idOf(req);
        if (!db.preparedQueries.get(id)) {
          throw new HttpError(500, `Cannot modify non-existent prepared query: '${id}'`);
        }
        await ctx.applier.apply({
          type: 'query-set',
          now: Date.now(),
          query: toQuery(id, decodeBody(req, definition)),
        });
        return reply.send();
      },
      DELETE: async (req, reply) => {
        const id = idOf(req);
        if (!db.preparedQueries.get(id)) {
          throw new HttpError(500, `Cannot delete non-existent prepared query: '${id}'`);
        }
        await ctx.applier.apply({ type: 'query-delete', now: Date.now(), id });
        return reply.send();
      },
    },
    '/v1/query/:id/execute': { GET: (req, reply) => execute(ctx, req, reply) },
    '/v1/query/:id/explain': {
      GET: async (req, reply) => {
        await ctx.reads.prepare('default');
        const query = resolveQuery(db, idOf(req));
        if (!query) throw notFound(QUERY_NOT_FOUND);
        return sendJson(req, reply, { Query: queryJson(query) });
      },
    },
  };
}

async function execute(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const query = resolveQuery(ctx.store.db, (req.params as { id: string }).id);
  if (!query) throw notFound(QUERY_NOT_FOUND);
  const limit = unsignedParam(queryOf(req), 'limit', 'Invalid limit') ?? 0;
  const { value } = await blockingRead(ctx, req, reply, (ws) => executeQuery(ctx.store.db, ws, query));
  const nodes = limit > 0 ? value.slice(0, limit) : value;
  return sendJson(req, reply, {
    Service: query.Service.Service,
    Nodes: nodes.map(healthEntryJson),
    DNS: query.DNS,
    Datacenter: ctx.agent.config.datacenter,
    Failovers: 0,
  });
}

/** Consul's checks of a definition (its RPC's, so refusals are 500s), filled with Consul's defaults. */
function toQuery(id: string, body: z.output<typeof definition>): PreparedQueryInput {
  const service = body.Service ?? {};
  if (!service.Service) throw new HttpError(500, 'Must provide a Service name to query');
  const nearestN = service.Failover?.NearestN ?? 0;
  if (nearestN < 0) throw new HttpError(500, `Bad NearestN '${nearestN}', must be >= 0`);
  const ttl = body.DNS?.TTL ?? '';
  if (ttl) {
    try {
      if (parseDuration(ttl) < 0) throw new HttpError(500, `DNS TTL '${ttl}', must be >=0`);
    } catch (err) {
      if (err instanceof DurationError) throw new HttpError(500, `Bad DNS TTL '${ttl}': ${err.message}`);
      throw err;
    }
  }
  const templateType = body.Template?.Type ?? '';
  if (templateType !== '' && templateType !== 'name_prefix_match') {
    throw new HttpError(500, `Bad Template.Type '${templateType}'`);
  }
  const regexp = body.Template?.Regexp ?? '';
  if (regexp) {
    try {
      new RegExp(regexp);
    } catch (err) {
      throw new HttpError(500, `Bad Regexp: ${(err as Error).message}`);
    }
  }
  return {
    ID: id,
    Name: body.Name ?? '',
    Session: body.Session ?? '',
    Token: body.Token ?? '',
    Template: {
      Type: templateType,
      Regexp: regexp,
      RemoveEmptyTags: body.Template?.RemoveEmptyTags ?? false,
    },
    Service: {
      Service: service.Service,
      Failover: { NearestN: nearestN, Datacenters: service.Failover?.Datacenters ?? [] },
      IgnoreCheckIDs: service.IgnoreCheckIDs ?? [],
      OnlyPassing: service.OnlyPassing ?? false,
      Near: service.Near ?? '',
      Tags: service.Tags ?? [],
      NodeMeta: service.NodeMeta ?? {},
      ServiceMeta: service.ServiceMeta ?? {},
      Connect: { Enabled: service.Connect?.Enabled ?? false },
    },
    DNS: { TTL: ttl },
  };
}

function queryJson(row: PreparedQueryRow) {
  return {
    ID: row.ID,
    Name: row.Name,
    Session: row.Session,
    Token: row.Token,
    Template: row.Template,
    Service: row.Service,
    DNS: row.DNS,
    CreateIndex: row.CreateIndex,
    ModifyIndex: row.ModifyIndex,
  };
}
