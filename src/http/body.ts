import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { badRequest } from './errors.ts';

// Request bodies decoded the way Go's encoding/json decodes them for Consul: object keys match struct fields
// case-insensitively (python-consul sends "name", "ttl", "checks"...), snake_case spellings of the same field
// are accepted as Consul's agent endpoints accept them, unknown fields are ignored, and map-valued fields
// (Meta, NodeMeta, TaggedAddresses) keep their keys exactly.

type AnySchema = z.ZodType;

interface ZodInternals {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, AnySchema>;
      innerType?: AnySchema;
      element?: AnySchema;
      in?: AnySchema;
      valueType?: AnySchema;
      options?: AnySchema[];
      getter?: () => AnySchema;
    };
  };
}

const foldKey = (key: string) => key.replaceAll('_', '').toLowerCase();

/** Rewrites the keys of `value` to the field names `schema` declares, wherever it declares objects. */
export function canonicalKeys(value: unknown, schema: AnySchema): unknown {
  const def = (schema as unknown as ZodInternals)._zod.def;
  switch (def.type) {
    case 'object':
      return isPlainObject(value) ? canonicalObject(value, def.shape ?? {}) : value;
    case 'array':
      return Array.isArray(value) && def.element
        ? value.map((item) => canonicalKeys(item, def.element!))
        : value;
    case 'record':
      if (!isPlainObject(value) || !def.valueType) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonicalKeys(v, def.valueType!)]));
    case 'union':
      return canonicalUnion(value, def.options ?? []);
    case 'pipe':
      return def.in ? canonicalKeys(value, def.in) : value;
    case 'lazy':
      return def.getter ? canonicalKeys(value, def.getter()) : value;
    default:
      return def.innerType ? canonicalKeys(value, def.innerType) : value;
  }
}

function canonicalObject(
  value: Record<string, unknown>,
  shape: Record<string, AnySchema>,
): Record<string, unknown> {
  const fields = new Map(Object.keys(shape).map((name) => [foldKey(name), name]));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const name = Object.hasOwn(shape, key) ? key : fields.get(foldKey(key));
    if (name === undefined) continue;
    // An exact-case key wins over a case-folded duplicate, as in Go.
    if (name !== key && Object.hasOwn(value, name)) continue;
    out[name] = canonicalKeys(item, shape[name]!);
  }
  return out;
}

/** For a union of object shapes, canonicalize against all their fields together. */
function canonicalUnion(value: unknown, options: AnySchema[]): unknown {
  const shapes = options
    .map((option) => (option as unknown as ZodInternals)._zod.def)
    .filter((def) => def.type === 'object')
    .map((def) => def.shape ?? {});
  if (shapes.length === 0 || !isPlainObject(value)) return value;
  return canonicalObject(value, Object.assign({}, ...shapes));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The raw request body (every content type is read as bytes). */
export function rawBody(req: FastifyRequest): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/**
 * Parses and validates a JSON body. `emptyAs` is what an absent body means; without it an empty body is an
 * error, as Go's decoder reports EOF.
 */
export function decodeBody<S extends AnySchema>(
  req: FastifyRequest,
  schema: S,
  emptyAs?: unknown,
): z.output<S> {
  const raw = rawBody(req);
  let parsed: unknown;
  if (raw.length === 0) {
    if (emptyAs === undefined) throw badRequest('Request decode failed: EOF');
    parsed = emptyAs;
  } else {
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw badRequest(`Request decode failed: ${(err as Error).message}`);
    }
  }
  return decodeJson(parsed, schema);
}

/** Validates already-parsed JSON as decodeBody does: keys matched as Go matches them, 400 on a mismatch. */
export function decodeJson<S extends AnySchema>(parsed: unknown, schema: S): z.output<S> {
  const result = schema.safeParse(canonicalKeys(parsed, schema));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw badRequest(`Request decode failed: ${path}${issue.message}`);
  }
  return result.data;
}
