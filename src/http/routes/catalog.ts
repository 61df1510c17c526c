import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { listNodes, listServiceInstances, nodeServices, serviceInstances } from '../../state/catalog-read.ts';
import type { NodeRow } from '../../state/types.ts';
import { blockingRead } from '../blocking.ts';
import { decodeBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { badRequest, HttpError } from '../errors.ts';
import { applyFilter } from '../filter/index.ts';
import { param, params, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import {
  checkFields,
  nodeFields,
  serviceFields,
  toCheckInput,
  toNodeInput,
  toServiceInput,
} from '../schemas.ts';
import { nodeJson, nodeServiceJson, serviceNodeJson } from '../shapes.ts';

// /v1/catalog: direct registration and the catalog's read views.

const registerBody = nodeFields.extend({
  Service: serviceFields.nullish(),
  Check: checkFields.nullish(),
  Checks: z.array(checkFields).nullish(),
  SkipNodeUpdate: z.boolean().nullish(),
});

const deregisterBody = z.object({
  Node: z.string().nullish(),
  Datacenter: z.string().nullish(),
  CheckID: z.string().nullish(),
  ServiceID: z.string().nullish(),
});

export function catalogRoutes(ctx: HttpContext): Routes {
  const db = ctx.store.db;
  const nameOf = (req: FastifyRequest) => (req.params as { name: string }).name;
  return {
    '/v1/catalog/register': { PUT: (req, reply) => register(ctx, req, reply) },
    '/v1/catalog/deregister': { PUT: (req, reply) => deregister(ctx, req, reply) },
    '/v1/catalog/datacenters': {
      GET: async (req, reply) => sendJson(req, reply, [ctx.agent.config.datacenter]),
    },
    '/v1/catalog/nodes': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => listNodes(db, ws));
        const nodes = value.filter(nodeMetaMatcher(req)).map(nodeJson);
        return sendJson(req, reply, applyFilter(nodes, param(queryOf(req), 'filter')));
      },
    },
    '/v1/catalog/services': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => listServiceInstances(db, ws));
        const matchesMeta = nodeMetaMatcher(req);
        const entries = applyFilter(
          value.filter((i) => matchesMeta(i.node)).map(serviceNodeJson),
          param(queryOf(req), 'filter'),
        );
        const services: Record<string, string[]> = {};
        for (const entry of entries) {
          const tags = services[entry.ServiceName] ?? [];
          services[entry.ServiceName] = [...new Set([...tags, ...entry.ServiceTags])];
        }
        return sendJson(req, reply, services);
      },
    },
    '/v1/catalog/service/:name': {
      GET: (req, reply) => serviceNodes(ctx, req, reply, nameOf(req), false),
    },
    '/v1/catalog/connect/:name': {
      GET: (req, reply) => serviceNodes(ctx, req, reply, nameOf(req), true),
    },
    '/v1/catalog/node/:name': {
      GET: async (req, reply) => {
        const { value } = await blockingRead(ctx, req, reply, (ws) => nodeServices(db, ws, nameOf(req)));
        if (!value) return sendJson(req, reply, null);
        const services = Object.fromEntries(value.services.map((s) => [s.ID, nodeServiceJson(s)]));
        return sendJson(req, reply, { Node: nodeJson(value.node), Services: services });
      },
    },
  };
}

async function serviceNodes(
  ctx: HttpContext,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  connect: boolean,
) {
  const query = queryOf(req);
  const { value } = await blockingRead(ctx, req, reply, (ws) =>
    serviceInstances(ctx.store.db, ws, name, connect),
  );
  const matchesMeta = nodeMetaMatcher(req);
  const tagged = withTags(value, params(query, 'tag'));
  const entries = tagged.filter((i) => matchesMeta(i.node)).map(serviceNodeJson);
  return sendJson(req, reply, applyFilter(entries, param(query, 'filter')));
}

/** Instances carrying every one of `tags` (case-insensitively, as Consul matches tags). */
export function withTags<T extends { service: { Tags: string[] } }>(instances: T[], tags: string[]): T[] {
  if (tags.length === 0) return instances;
  const wanted = tags.map((t) => t.toLowerCase());
  return instances.filter((i) => {
    const have = new Set(i.service.Tags.map((t) => t.toLowerCase()));
    return wanted.every((t) => have.has(t));
  });
}

/** `?node-meta=key:value` (repeatable): nodes whose metadata holds every pair. */
export function nodeMetaMatcher(req: FastifyRequest): (node: NodeRow) => boolean {
  const pairs = params(queryOf(req), 'node-meta').map((pair) => {
    const cut = pair.indexOf(':');
    return cut < 0 ? [pair, ''] : [pair.slice(0, cut), pair.slice(cut + 1)];
  });
  return (node) => pairs.every(([key, value]) => node.Meta[key!] === value);
}

async function register(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const body = decodeBody(req, registerBody);
  checkDatacenter(ctx, body.Datacenter);
  const node = toNodeInput(body, ctx.agent.config.datacenter);
  // Consul's Catalog.Register RPC refuses this, so its HTTP layer answers with a 500.
  if (!node.Address && !body.SkipNodeUpdate)
    throw new HttpError(500, 'Must provide address if SkipNodeUpdate is not set');
  const service = body.Service ? toServiceInput(body.Service) : null;
  const checks = [...(body.Check ? [body.Check] : []), ...(body.Checks ?? [])].map((check) => {
    if (check.Node && check.Node.toLowerCase() !== node.Node.toLowerCase()) {
      throw badRequest(`Check node "${check.Node}" does not match the registered node "${node.Node}"`);
    }
    return toCheckInput(check, node.Node);
  });
  await ctx.applier.apply({
    type: 'register',
    now: Date.now(),
    node,
    service,
    checks,
    skipNodeUpdate: body.SkipNodeUpdate ?? false,
  });
  return sendJson(req, reply, true);
}

async function deregister(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply) {
  const body = decodeBody(req, deregisterBody);
  checkDatacenter(ctx, body.Datacenter);
  if (!body.Node) throw badRequest('Must provide node');
  await ctx.applier.apply({
    type: 'deregister',
    now: Date.now(),
    node: body.Node,
    serviceId: body.ServiceID || null,
    checkId: body.CheckID || null,
  });
  return sendJson(req, reply, true);
}

/** Requests for another datacenter need WAN forwarding, which a single datacenter cannot do. */
export function checkDatacenter(ctx: HttpContext, datacenter: string | null | undefined): void {
  if (datacenter && datacenter !== ctx.agent.config.datacenter)
    throw new HttpError(500, 'No path to datacenter');
}
