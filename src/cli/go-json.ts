// JSON as Go's json.MarshalIndent(v, "", "\t") writes it, including its HTML-safe escapes, so exported data is
// byte-for-byte what Consul's CLI would print.

export function goJson(value: unknown): string {
  return JSON.stringify(value, null, '\t').replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
