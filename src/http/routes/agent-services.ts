import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { LocalCheck } from '../../local/local-agent.ts';
import type { ServiceInput } from '../../state/commands.ts';
import { parseGoBool } from '../../util/go-bool.ts';
import { abortOnClose, readOptions } from '../blocking.ts';
import { decodeBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { applyFilterToMap } from '../filter/index.ts';
import { flag, has, param, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import { serviceFields, toServiceInput } from '../schemas.ts';
import { agentServiceJson } from '../shapes.ts';
import { agentCheckFields, toLocalCheck } from './agent-checks.ts';

// /v1/agent/service*: services this agent owns. Registration accepts a Check or Checks, defaulting their IDs
// to service:<id> (service:<id>:<n> for several) and their names to "Service '<name>' check".

/** A service definition as the agent API and config files give it, with its checks. */
export const serviceDefinitionSchema = serviceFields.extend({
  Check: agentCheckFields.nullish(),
  Checks: z.array(agentCheckFields).nullish(),
});

/** The service and its checks (IDs `service:<id>[:n]`, as Consul numbers them) from a definition. */
export function toServiceRegistration(
  body: z.output<typeof serviceDefinitionSchema>,
  nodeName: string,
  options: { enableScriptChecks: boolean },
): { service: ServiceInput; checks: LocalCheck[] } {
  const service = toServiceInput(body);
  const definitions = [...(body.Check ? [body.Check] : []), ...(body.Checks ?? [])];
  const checks = definitions.map((definition, n) =>
    toLocalCheck(definition, nodeName, options, {
      id: definitions.length > 1 ? `service:${service.ID}:${n + 1}` : `service:${service.ID}`,
      name: `Service '${service.Service}' check`,
      serviceId: service.ID,
    }),
  );
  return { service, checks };
}

export function agentServiceRoutes(ctx: HttpContext): Routes {
  const local = ctx.agent.local;
  const dc = ctx.agent.config.datacenter;
  const idOf = (req: FastifyRequest) => (req.params as { '*': string })['*'];
  const deregister = async (req: FastifyRequest, reply: FastifyReply) => {
    const id = idOf(req);
    if (!(await local.removeService(id))) {
      throw notFound(unknownServiceId(id));
    }
    return reply.send();
  };
  return {
    '/v1/agent/services': {
      GET: async (req, reply) => {
        const services = Object.fromEntries(local.listServices().map((s) => [s.ID, agentServiceJson(s, dc)]));
        return sendJson(req, reply, applyFilterToMap(services, param(queryOf(req), 'filter')));
      },
    },
    '/v1/agent/service/register': {
      PUT: async (req, reply) => {
        const body = decodeBody(req, serviceDefinitionSchema);
        const { service, checks } = toServiceRegistration(body, local.nodeName, ctx.agent.config);
        await local.addService(service, checks, flag(queryOf(req), 'replace-existing-checks'));
        return reply.send();
      },
    },
    '/v1/agent/service/deregister/*': { PUT: deregister, GET: deregister },
    '/v1/agent/service/maintenance/*': {
      PUT: async (req, reply) => {
        const id = idOf(req);
        const enable = enableParam(req);
        if (!local.getService(id)) throw notFound(unknownServiceId(id));
        await local.setServiceMaintenance(id, enable, param(queryOf(req), 'reason') ?? '');
        return reply.send();
      },
    },
    '/v1/agent/service/*': { GET: (req, reply) => serviceById(ctx, req, reply, idOf(req)) },
  };
}

const unknownServiceId = (id: string) =>
  `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`;

/** `?enable` is required and boolean, as Consul's maintenance endpoints insist. */
export function enableParam(req: FastifyRequest): boolean {
  const query = queryOf(req);
  if (!has(query, 'enable') || param(query, 'enable') === '') throw badRequest('Missing value for enable');
  const value = param(query, 'enable')!;
  const enable = parseGoBool(value);
  if (enable === undefined) throw badRequest(`Invalid value for enable: "${value}"`);
  return enable;
}

/** One local service with its ContentHash; `?hash=` blocks until the service's hash differs. */
async function serviceById(ctx: HttpContext, req: FastifyRequest, reply: FastifyReply, id: string) {
  const local = ctx.agent.local;
  const dc = ctx.agent.config.datacenter;
  const render = () => {
    const service = local.getService(id);
    if (!service) return undefined;
    const json = agentServiceJson(service, dc);
    return {
      ...json,
      ContentHash: createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 16),
    };
  };
  const wantHash = param(queryOf(req), 'hash');
  let current = render();
  if (wantHash && current?.ContentHash === wantHash) {
    const { waitMs } = readOptions(queryOf(req));
    const deadline = Date.now() + waitMs;
    const closed = abortOnClose(reply);
    try {
      while (current?.ContentHash === wantHash && Date.now() < deadline && !closed.signal.aborted) {
        await local.changes.next(deadline - Date.now(), closed.signal);
        current = render();
      }
    } finally {
      closed.release();
    }
  }
  if (!current) throw notFound(`unknown service ID: ${id}`);
  reply.header('X-Consul-ContentHash', current.ContentHash);
  return sendJson(req, reply, current);
}
