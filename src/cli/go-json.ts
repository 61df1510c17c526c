// JSON as Go's json.MarshalIndent(v, "", "\t") writes it, including its HTML-safe escapes, so exported data is
// byte-for-byte what Consul's CLI would print. `indent` is MarshalIndent's, for commands that indent otherwise.

export function goJson(value: unknown, indent = '\t'): string {
  return JSON.stringify(value, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
