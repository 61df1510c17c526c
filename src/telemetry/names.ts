// A metric is known by its go-metrics key: Consul's name parts, each of which may hold underscores
// (`runtime`, `alloc_bytes`). Both rendered names derive from the parts, so neither is guessed from the other.

/** Name parts after Consul's `consul` prefix, e.g. ['session_ttl', 'active']. */
export type Key = readonly string[];

const PREFIX = 'consul';

/** The JSON form's name: parts joined by dots, spaces made underscores (go-metrics' inmem flattenKey). */
export function dottedName(key: Key): string {
  return [PREFIX, ...key].join('.').replaceAll(' ', '_');
}

/** The Prometheus form's name: parts joined by underscores, other disallowed characters made underscores. */
export function prometheusName(key: Key): string {
  return [PREFIX, ...key].join('_').replace(/[^a-zA-Z0-9_:]/g, '_');
}
