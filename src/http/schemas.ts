import { z } from 'zod';
import type { CheckInput, NodeInput, ServiceInput } from '../state/commands.ts';
import { HEALTH_STATUSES, type HealthStatus } from '../state/types.ts';
import { badRequest } from './errors.ts';

// Body schemas shared by the catalog, txn and agent endpoints, and their conversion to state inputs with
// Consul's defaults and validation rules.

export const stringMap = z
  .record(z.string(), z.string())
  .nullish()
  .transform((v) => v ?? {});
export const stringList = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);
const uint = z.number().int().min(0);

export const nodeFields = z.object({
  ID: z.string().nullish(),
  Node: z.string().nullish(),
  Address: z.string().nullish(),
  Datacenter: z.string().nullish(),
  TaggedAddresses: stringMap,
  NodeMeta: stringMap,
  Meta: stringMap,
  ModifyIndex: uint.nullish(),
});

export const serviceFields = z.object({
  Kind: z.string().nullish(),
  ID: z.string().nullish(),
  Service: z.string().nullish(),
  Name: z.string().nullish(),
  Tags: stringList,
  Address: z.string().nullish(),
  TaggedAddresses: z
    .record(z.string(), z.object({ Address: z.string().default(''), Port: z.number().int().default(0) }))
    .nullish(),
  Meta: stringMap,
  Port: z.number().int().min(0).max(65535).nullish(),
  Weights: z.object({ Passing: z.number().int().default(1), Warning: z.number().int().default(1) }).nullish(),
  EnableTagOverride: z.boolean().nullish(),
  Proxy: z.record(z.string(), z.unknown()).nullish(),
  Connect: z.object({ Native: z.boolean().optional() }).passthrough().nullish(),
  ModifyIndex: uint.nullish(),
});

export const checkFields = z.object({
  Node: z.string().nullish(),
  CheckID: z.string().nullish(),
  ID: z.string().nullish(),
  Name: z.string().nullish(),
  Status: z.string().nullish(),
  Notes: z.string().nullish(),
  Output: z.string().nullish(),
  ServiceID: z.string().nullish(),
  Type: z.string().nullish(),
  Definition: z.record(z.string(), z.unknown()).nullish(),
  ModifyIndex: uint.nullish(),
});

export function toNodeInput(body: z.output<typeof nodeFields>, datacenter: string): NodeInput {
  if (!body.Node) throw badRequest('Must provide node');
  const meta = { ...body.Meta, ...body.NodeMeta };
  validateMeta(meta, 'Node');
  if (body.ID && !UUID.test(body.ID)) throw badRequest(`Invalid node ID: ${body.ID}`);
  return {
    ID: body.ID ?? '',
    Node: body.Node,
    Address: body.Address ?? '',
    Datacenter: body.Datacenter || datacenter,
    TaggedAddresses: body.TaggedAddresses,
    Meta: meta,
  };
}

export function toServiceInput(body: z.output<typeof serviceFields>): ServiceInput {
  const name = body.Service || body.Name;
  if (!name) throw badRequest('Missing service name');
  validateMeta(body.Meta, 'Service');
  const weights = body.Weights ?? { Passing: 1, Warning: 1 };
  if (weights.Passing < 1) throw badRequest('Passing must be greater than 0');
  if (weights.Warning < 0) throw badRequest('Warning must be greater or equal than 0');
  const kind = body.Kind ?? '';
  if (kind === 'connect-proxy' && typeof body.Proxy?.DestinationServiceName !== 'string') {
    throw badRequest('Proxy.DestinationServiceName must be set for a connect-proxy');
  }
  return {
    Kind: kind,
    ID: body.ID || name,
    Service: name,
    Tags: body.Tags,
    Address: body.Address ?? '',
    TaggedAddresses: body.TaggedAddresses ?? {},
    Meta: body.Meta,
    Port: body.Port ?? 0,
    Weights: weights,
    EnableTagOverride: body.EnableTagOverride ?? false,
    Proxy: body.Proxy ?? null,
    Connect: body.Connect ?? null,
  };
}

export function toCheckInput(body: z.output<typeof checkFields>, node: string): CheckInput {
  const checkId = body.CheckID || body.ID || body.Name;
  if (!checkId) throw badRequest('Missing check ID');
  return {
    Node: node,
    CheckID: checkId,
    Name: body.Name || checkId,
    Status: parseStatus(body.Status, 'critical'),
    Notes: body.Notes ?? '',
    Output: body.Output ?? '',
    ServiceID: body.ServiceID ?? '',
    Type: body.Type ?? '',
    Definition: body.Definition ?? {},
  };
}

export function parseStatus(status: string | null | undefined, fallback: HealthStatus): HealthStatus {
  if (!status) return fallback;
  if (!(HEALTH_STATUSES as readonly string[]).includes(status))
    throw badRequest(`Invalid check status: "${status}"`);
  return status as HealthStatus;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const META_KEY = /^[a-zA-Z0-9_-]+$/;
const MAX_META_PAIRS = 64;
const MAX_META_KEY = 128;
const MAX_META_VALUE = 512;

/** Consul's metadata rules for nodes and services. */
export function validateMeta(meta: Record<string, string>, what: 'Node' | 'Service'): void {
  const entries = Object.entries(meta);
  if (entries.length > MAX_META_PAIRS) {
    throw badRequest(`Invalid ${what} Meta: more than ${MAX_META_PAIRS} key/value pairs`);
  }
  for (const [key, value] of entries) {
    const problem =
      key === ''
        ? 'Key cannot be blank'
        : !META_KEY.test(key)
          ? 'Key contains invalid characters'
          : key.length > MAX_META_KEY
            ? `Key is too long (limit: ${MAX_META_KEY} characters)`
            : key.startsWith('consul-')
              ? "Key prefix 'consul-' is reserved for internal use"
              : value.length > MAX_META_VALUE
                ? `Value is too long (limit: ${MAX_META_VALUE} characters)`
                : undefined;
    if (problem)
      throw badRequest(
        `Invalid ${what} Meta: Couldn't load metadata pair ('${key}', '${value}'): ${problem}`,
      );
  }
}
