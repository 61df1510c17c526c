// Consul's configuration files: JSON, or HCL with the same keys. HCL blocks arrive from hcl2json as lists of
// objects, one per block; only a few keys may repeat (service, check...), every other block is one object.

/** Blocks that define one item each and may repeat, so they stay lists. */
const REPEATABLE_BLOCKS = new Set(['service', 'services', 'check', 'checks', 'watches', 'upstreams']);

export class ConfigSyntaxError extends Error {
  override name = 'ConfigSyntaxError';
}

/** Parses one file's text by its extension (.json or .hcl) into plain data with Consul's keys. */
export async function parseConfigText(file: string, text: string): Promise<Record<string, unknown>> {
  let value: unknown;
  if (file.endsWith('.hcl')) {
    try {
      // Loaded on the first HCL file: the parser unpacks and compiles WebAssembly when imported.
      const { parse: parseHcl } = await import('@cdktf/hcl2json');
      value = normalizeBlocks(await parseHcl(file, text));
    } catch (err) {
      throw new ConfigSyntaxError(`Error parsing ${file}: ${(err as Error).message}`);
    }
  } else {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ConfigSyntaxError(`Error parsing ${file}: ${(err as Error).message}`);
    }
  }
  if (!isObject(value)) throw new ConfigSyntaxError(`Error parsing ${file}: the top level must be an object`);
  return value;
}

function normalizeBlocks(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => normalizeBlocks(item));
    const blocks = items.length > 0 && items.every(isObject);
    // A block that may appear once: its bodies merge into one object.
    if (blocks && !REPEATABLE_BLOCKS.has(key)) return Object.assign({}, ...items);
    // A repeatable block given once stays what Consul's JSON would hold for it: one object.
    if (blocks && items.length === 1 && (key === 'service' || key === 'check')) return items[0];
    return items;
  }
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeBlocks(v, k)]));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
