import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { splitGrpcTarget } from '../../local/checks/grpc.ts';
import { splitHostPort } from '../../local/checks/probes.ts';
import type { CheckSpec } from '../../local/checks/spec.ts';
import type { LocalAgent, LocalCheck } from '../../local/local-agent.ts';
import { NotTTLCheckError, UnknownCheckError } from '../../local/local-agent.ts';
import type { CheckDefinition, HealthStatus } from '../../state/types.ts';
import { DurationError, durationFromJson, formatDuration, MINUTE, SECOND } from '../../util/duration.ts';
import { decodeBody } from '../body.ts';
import type { HttpContext } from '../context.ts';
import { badRequest, HttpError, notFound } from '../errors.ts';
import { applyFilterToMap } from '../filter/index.ts';
import { param, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import { parseStatus } from '../schemas.ts';

// /v1/agent/check/*: checks this agent owns. TTL checks are fed by pass/warn/fail/update; python-consul sends
// GET to several of these, so they accept GET as well as PUT.

const duration = z.union([z.string(), z.number()]).nullish();

export const agentCheckFields = z.object({
  ID: z.string().nullish(),
  CheckID: z.string().nullish(),
  Name: z.string().nullish(),
  Notes: z.string().nullish(),
  ServiceID: z.string().nullish(),
  Status: z.string().nullish(),
  TTL: duration,
  Interval: duration,
  Timeout: duration,
  DeregisterCriticalServiceAfter: duration,
  HTTP: z.string().nullish(),
  TCP: z.string().nullish(),
  UDP: z.string().nullish(),
  GRPC: z.string().nullish(),
  GRPCUseTLS: z.boolean().nullish(),
  Args: z.array(z.string()).nullish(),
  ScriptArgs: z.array(z.string()).nullish(),
  DockerContainerID: z.string().nullish(),
  AliasNode: z.string().nullish(),
  AliasService: z.string().nullish(),
  H2PING: z.string().nullish(),
  OSService: z.string().nullish(),
  Method: z.string().nullish(),
  Header: z.record(z.string(), z.array(z.string())).nullish(),
  Body: z.string().nullish(),
  TLSSkipVerify: z.boolean().nullish(),
  TLSServerName: z.string().nullish(),
  SuccessBeforePassing: z.number().int().min(0).nullish(),
  FailuresBeforeWarning: z.number().int().min(0).nullish(),
  FailuresBeforeCritical: z.number().int().min(0).nullish(),
});
export type AgentCheckBody = z.output<typeof agentCheckFields>;

/** Consul's minimum for DeregisterCriticalServiceAfter; smaller values are raised to it. */
const MIN_DEREGISTER_AFTER = MINUTE;

/** The runner kinds a check definition names, in Consul's precedence. */
function checkKind(body: AgentCheckBody): string | undefined {
  if (body.TTL != null && body.TTL !== '') return 'ttl';
  if (body.Args?.length || body.ScriptArgs?.length) return 'script';
  const kinds: [keyof AgentCheckBody, string][] = [
    ['HTTP', 'http'],
    ['TCP', 'tcp'],
    ['UDP', 'udp'],
    ['GRPC', 'grpc'],
    ['H2PING', 'h2ping'],
    ['DockerContainerID', 'docker'],
    ['AliasNode', 'alias'],
    ['AliasService', 'alias'],
    ['OSService', 'os_service'],
  ];
  return kinds.find(([field]) => body[field])?.[1];
}

function durationField(value: string | number | null | undefined, field: string): number | null {
  if (value == null || value === '') return null;
  try {
    return durationFromJson(value);
  } catch (err) {
    if (err instanceof DurationError) throw badRequest(`Invalid check: ${field}: ${err.message}`);
    throw err;
  }
}

/** Builds a local check from an agent definition; `defaults` supplies ID and name for service checks. */
export function toLocalCheck(
  body: AgentCheckBody,
  node: string,
  options: { enableScriptChecks: boolean },
  defaults: { id?: string; name?: string; serviceId?: string } = {},
): LocalCheck {
  const name = body.Name || defaults.name;
  if (!name) throw badRequest('Missing check name');
  const spec = toSpec(body, options);
  const deregisterAfter = durationField(
    body.DeregisterCriticalServiceAfter,
    'DeregisterCriticalServiceAfter',
  );
  const effectiveDeregister =
    deregisterAfter === null ? null : Math.max(deregisterAfter, MIN_DEREGISTER_AFTER);
  return {
    check: {
      Node: node,
      CheckID: body.CheckID || body.ID || defaults.id || name,
      Name: name,
      Status: statusOf(body.Status),
      Notes: body.Notes ?? '',
      Output: '',
      ServiceID: body.ServiceID || defaults.serviceId || '',
      Type: spec.kind,
      Definition: definitionOf(spec, effectiveDeregister),
    },
    spec,
    deregisterCriticalAfterMs: effectiveDeregister === null ? null : effectiveDeregister / 1e6,
    criticalSince: null,
  };
}

const DEFAULT_TIMEOUT = 10 * SECOND;
const DEFAULT_SCRIPT_TIMEOUT = 30 * SECOND;
/** Consul raises shorter intervals to one second. */
const MIN_INTERVAL = SECOND;

function toSpec(body: AgentCheckBody, options: { enableScriptChecks: boolean }): CheckSpec {
  const kind = checkKind(body);
  if (kind === undefined) {
    throw badRequest(
      'Invalid check: Must provide TTL or Script/DockerContainerID/HTTP/TCP/UDP/GRPC/H2PING/AliasNode/AliasService and Interval',
    );
  }
  const alias = Boolean(body.AliasNode || body.AliasService);
  if (kind === 'ttl') {
    const ttl = durationField(body.TTL, 'TTL') ?? 0;
    // Consul refuses a positive TTL on an alias; with a zero one it is simply an alias check.
    if (alias && ttl > 0) throw badRequest('Invalid check: TTL must be not be set for Alias checks');
    if (!alias) {
      if (ttl <= 0) throw badRequest('Invalid check: TTL must be > 0 for TTL checks');
      return { kind, ttlMs: ttl / 1e6 };
    }
  }
  if (alias && (kind === 'ttl' || kind === 'alias')) {
    // Consul's alias check has no schedule: it follows the catalog. AliasNode "" means this agent's node.
    return { kind: 'alias', node: body.AliasNode ?? '', serviceId: body.AliasService ?? '' };
  }
  if (kind !== 'http' && kind !== 'tcp' && kind !== 'udp' && kind !== 'grpc' && kind !== 'script') {
    throw badRequest(`Invalid check: ${kind} checks are not available on this agent yet`);
  }
  if (kind === 'script' && !options.enableScriptChecks) {
    throw badRequest(
      "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' to true",
    );
  }
  const interval = durationField(body.Interval, 'Interval');
  if (!interval || interval <= 0) {
    throw badRequest('Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks');
  }
  if (alias) throw badRequest('Invalid check: Interval cannot be set for Alias checks');
  const timeout =
    durationField(body.Timeout, 'Timeout') ?? (kind === 'script' ? DEFAULT_SCRIPT_TIMEOUT : DEFAULT_TIMEOUT);
  const failuresBeforeCritical = Math.max(body.FailuresBeforeCritical ?? 1, 1);
  const schedule = {
    intervalMs: Math.max(interval, MIN_INTERVAL) / 1e6,
    timeoutMs: timeout / 1e6,
    successBeforePassing: Math.max(body.SuccessBeforePassing ?? 1, 1),
    failuresBeforeCritical,
    failuresBeforeWarning: body.FailuresBeforeWarning || failuresBeforeCritical,
  };
  switch (kind) {
    case 'http':
      return {
        kind,
        ...schedule,
        http: {
          url: validUrl(body.HTTP!),
          method: body.Method || 'GET',
          headers: body.Header ?? {},
          body: body.Body ?? '',
          tlsSkipVerify: body.TLSSkipVerify ?? false,
          tlsServerName: body.TLSServerName ?? '',
        },
      };
    case 'tcp':
    case 'udp':
      return { kind, ...schedule, address: validAddress(kind === 'tcp' ? body.TCP! : body.UDP!) };
    case 'grpc': {
      // Consul takes the target as given; a bad one fails when the check runs, not at registration.
      const target = body.GRPC!;
      return {
        kind,
        ...schedule,
        grpc: {
          target,
          ...splitGrpcTarget(target),
          useTLS: body.GRPCUseTLS ?? false,
          tlsSkipVerify: body.TLSSkipVerify ?? false,
          tlsServerName: body.TLSServerName ?? '',
        },
      };
    }
    case 'script':
      return { kind, ...schedule, args: (body.Args?.length ? body.Args : body.ScriptArgs)! };
  }
}

function validUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw badRequest(`Invalid check: HTTP must be an http:// or https:// URL, got "${url}"`);
}

function validAddress(address: string): string {
  try {
    splitHostPort(address);
    return address;
  } catch (err) {
    throw badRequest(`Invalid check: ${(err as Error).message}`);
  }
}

/** What the catalog shows of a check's definition (Consul's HealthCheckDefinition). */
function definitionOf(spec: CheckSpec, deregisterAfter: number | null): CheckDefinition {
  const definition: CheckDefinition = {};
  if ('intervalMs' in spec) {
    definition.Interval = formatDuration(spec.intervalMs * 1e6);
    definition.Timeout = formatDuration(spec.timeoutMs * 1e6);
  }
  if (spec.kind === 'http') {
    Object.assign(definition, {
      HTTP: spec.http.url,
      Method: spec.http.method,
      Header: spec.http.headers,
      Body: spec.http.body,
      TLSSkipVerify: spec.http.tlsSkipVerify,
    });
  }
  if (spec.kind === 'tcp') definition.TCP = spec.address;
  if (spec.kind === 'udp') definition.UDP = spec.address;
  if (spec.kind === 'grpc') {
    // Consul's HealthCheckDefinition omits zero values.
    definition.GRPC = spec.grpc.target;
    if (spec.grpc.useTLS) definition.GRPCUseTLS = true;
    if (spec.grpc.tlsServerName) definition.TLSServerName = spec.grpc.tlsServerName;
    if (spec.grpc.tlsSkipVerify) definition.TLSSkipVerify = true;
  }
  if (spec.kind === 'alias') {
    if (spec.node) definition.AliasNode = spec.node;
    if (spec.serviceId) definition.AliasService = spec.serviceId;
  }
  if (spec.kind === 'script') definition.ScriptArgs = spec.args;
  if (deregisterAfter !== null) definition.DeregisterCriticalServiceAfter = formatDuration(deregisterAfter);
  return definition;
}

function statusOf(status: string | null | undefined): HealthStatus {
  try {
    return parseStatus(status, 'critical');
  } catch {
    throw badRequest('Bad check status');
  }
}

export function agentCheckRoutes(ctx: HttpContext): Routes {
  const local = ctx.agent.local;
  const idOf = (req: FastifyRequest) => (req.params as { '*': string })['*'];
  const ttlUpdate = (status: HealthStatus) => async (req: FastifyRequest, reply: FastifyReply) => {
    await updateTTL(ctx, idOf(req), status, param(queryOf(req), 'note') ?? '');
    return reply.send();
  };
  const deregister = async (req: FastifyRequest, reply: FastifyReply) => {
    const id = idOf(req);
    if (!(await local.removeCheck(id))) {
      throw notFound(`Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`);
    }
    return reply.send();
  };
  return {
    '/v1/agent/checks': {
      GET: async (req, reply) => {
        const checks = Object.fromEntries(
          local.listChecks().map((c) => [c.check.CheckID, agentCheckJson(local, c)]),
        );
        return sendJson(req, reply, applyFilterToMap(checks, param(queryOf(req), 'filter')));
      },
    },
    '/v1/agent/check/register': {
      PUT: async (req, reply) => {
        const body = decodeBody(req, agentCheckFields);
        const check = toLocalCheck(body, local.nodeName, ctx.agent.config);
        if (check.check.ServiceID && !local.getService(check.check.ServiceID)) {
          throw notFound(`ServiceID "${check.check.ServiceID}" does not exist`);
        }
        await local.addCheck(check);
        return reply.send();
      },
    },
    '/v1/agent/check/deregister/*': { PUT: deregister, GET: deregister },
    '/v1/agent/check/pass/*': { PUT: ttlUpdate('passing'), GET: ttlUpdate('passing') },
    '/v1/agent/check/warn/*': { PUT: ttlUpdate('warning'), GET: ttlUpdate('warning') },
    '/v1/agent/check/fail/*': { PUT: ttlUpdate('critical'), GET: ttlUpdate('critical') },
    '/v1/agent/check/update/*': {
      PUT: async (req, reply) => {
        const body = decodeBody(
          req,
          z.object({ Status: z.string().nullish(), Output: z.string().nullish() }),
        );
        const status = body.Status ?? '';
        if (!['passing', 'warning', 'critical'].includes(status))
          throw badRequest(`Invalid check status: '${status}'`);
        await updateTTL(ctx, idOf(req), status as HealthStatus, body.Output ?? '');
        return reply.send();
      },
    },
  };
}

async function updateTTL(ctx: HttpContext, id: string, status: HealthStatus, output: string): Promise<void> {
  try {
    await ctx.agent.local.updateTTL(id, status, output);
  } catch (err) {
    if (err instanceof UnknownCheckError) throw notFound(err.message);
    if (err instanceof NotTTLCheckError) throw new HttpError(500, err.message);
    throw err;
  }
}

export function agentCheckJson(local: LocalAgent, { check }: LocalCheck) {
  const service = check.ServiceID ? local.getService(check.ServiceID) : undefined;
  return {
    Node: check.Node,
    CheckID: check.CheckID,
    Name: check.Name,
    Status: check.Status,
    Notes: check.Notes,
    Output: check.Output,
    ServiceID: check.ServiceID,
    ServiceName: service?.Service ?? '',
    ServiceTags: service?.Tags ?? [],
    Type: check.Type,
    Interval: check.Definition.Interval ?? '',
    Timeout: check.Definition.Timeout ?? '',
    ExposedPort: 0,
    Definition: check.Definition,
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}
