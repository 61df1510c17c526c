// Go's strconv.ParseBool: Consul reads boolean query parameters and CLI flags with it, so the accepted
// spellings are exactly these (not "yes", not "tRuE").
const GO_BOOLEANS = new Map<string, boolean>([
  ...['1', 't', 'T', 'TRUE', 'true', 'True'].map((s): [string, boolean] => [s, true]),
  ...['0', 'f', 'F', 'FALSE', 'false', 'False'].map((s): [string, boolean] => [s, false]),
]);

/** The boolean Go would read from `raw`, or undefined where strconv.ParseBool fails. */
export function parseGoBool(raw: string): boolean | undefined {
  return GO_BOOLEANS.get(raw);
}
