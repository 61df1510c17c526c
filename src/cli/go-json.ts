import { goEscapeHtml, stringifyJson } from '../util/json.ts';

// JSON as Go's json.MarshalIndent(v, "", "\t") writes it, including its HTML-safe escapes and exact uint64s,
// so exported data is byte-for-byte what Consul's CLI would print. `indent` is MarshalIndent's, for commands
// that indent otherwise.

export function goJson(value: unknown, indent = '\t'): string {
  return goEscapeHtml(stringifyJson(value, indent));
}
