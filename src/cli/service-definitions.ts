// Service definitions from files, as `consul services register|deregister FILE...` reads them: JSON or HCL with a
// "service" object or a "services" array, keys in Consul's config style (snake_case or PascalCase). The result
// is the agent API's PascalCase registration body.
import { readFile } from 'node:fs/promises';
import { parseConfigText } from '../agent/config-syntax.ts';
import { describeFsError } from './data-source.ts';

export type ServiceRegistration = Record<string, unknown> & { Name?: unknown; ID?: unknown };

// Their keys are user data (metadata, HTTP header names, opaque proxy config), so they pass through unchanged.
const OPAQUE_KEYS = new Set(['Meta', 'NodeMeta', 'Header', 'Config']);
// Their keys are user data but their values are structures to convert.
const KEYED_KEYS = new Set(['TaggedAddresses']);
const ACRONYMS = new Set(['ID', 'HTTP', 'TCP', 'UDP', 'TTL', 'GRPC', 'TLS', 'OS', 'DNS']);

export async function servicesFromFiles(files: readonly string[]): Promise<ServiceRegistration[]> {
  const services: ServiceRegistration[] = [];
  for (const file of files) services.push(...(await servicesFromFile(file)));
  return services;
}

async function servicesFromFile(file: string): Promise<ServiceRegistration[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`config: Open failed on ${file}. ${describeFsError(err, file)}`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = await parseConfigText(file, text);
  } catch (err) {
    throw new Error(
      `failed to parse ${file}: ${(err as Error).message.replace(/^Error parsing [^:]*: /, '')}`,
    );
  }
  const config = toApiKeys(parsed) as Record<string, unknown>;
  const found = [...(config.Service === undefined ? [] : [config.Service]), ...asArray(config.Services)];
  return found.map((service) => {
    if (!isObject(service)) throw new Error(`${file}: a service definition must be an object`);
    if (typeof service.Name !== 'string' || service.Name === '') {
      throw new Error(`${file}: a service definition needs a name`);
    }
    return service as ServiceRegistration;
  });
}

/** Renames keys to the API's PascalCase (`enable_tag_override` → `EnableTagOverride`, `id` → `ID`). */
export function toApiKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toApiKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const name = pascalCase(key);
      if (OPAQUE_KEYS.has(name)) return [name, inner];
      if (KEYED_KEYS.has(name) && isObject(inner)) {
        return [name, Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, toApiKeys(v)]))];
      }
      return [name, toApiKeys(inner)];
    }),
  );
}

function pascalCase(key: string): string {
  return key
    .split('_')
    .map((part) =>
      ACRONYMS.has(part.toUpperCase()) ? part.toUpperCase() : part.charAt(0).toUpperCase() + part.slice(1),
    )
    .join('');
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
