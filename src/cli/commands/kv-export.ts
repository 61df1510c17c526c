import { Kv, trimLeadingSlash } from '../../api/kv.ts';
import { checkArgCount, defineCommand, orFail } from '../command.ts';
import { goJson } from '../go-json.ts';
import * as ui from '../ui.ts';

export const kvExport = defineCommand({
  usage: `
Usage: tribune kv export [options] [KEY_OR_PREFIX]

  Prints every key-value pair under the prefix (the whole store by default) as a
  JSON array of {"key", "flags", "value"} objects with base64 values, the format
  "tribune kv import" and "consul kv import" read.

      $ tribune kv export vault/ > vault.json
`,
  http: 'client+server',
  flags: {},
  async run({ args, api }) {
    checkArgCount(args, 1);
    const pairs = await orFail(
      'Error querying Consul agent',
      new Kv(api()).list(trimLeadingSlash(args[0] ?? '')),
    );
    const entries = pairs.map((pair) => ({
      key: pair.Key,
      flags: pair.Flags,
      value: pair.Value.toString('base64'),
    }));
    ui.info(goJson(entries));
    return 0;
  },
});
