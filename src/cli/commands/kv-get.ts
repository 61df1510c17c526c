import { Kv, type KvPair, trimLeadingSlash } from '../../api/kv.ts';
import { checkArgCount, defineCommand, fail, orFail } from '../command.ts';
import { boolFlag, stringFlag } from '../flags.ts';
import { alignColumns } from '../table.ts';
import * as ui from '../ui.ts';

const QUERY_ERROR = 'Error querying Consul agent';

export const kvGet = defineCommand({
  usage: `
Usage: tribune kv get [options] [KEY_OR_PREFIX]

  Prints the value stored at KEY. It is an error if the key does not exist; a key
  with no data prints an empty line.

      $ tribune kv get redis/config/connections

  -detailed adds the key's metadata (indexes, flags, session). -recurse treats the
  argument as a prefix and prints every key:value under it; -keys lists only the
  key names, folded at -separator.

      $ tribune kv get -recurse redis/
      $ tribune kv get -keys -separator=/ redis/
`,
  http: 'client+server',
  flags: {
    base64: boolFlag('base64', 'Print values base64-encoded.'),
    detailed: boolFlag('detailed', 'Print metadata (indexes, flags, session) along with each value.'),
    keys: boolFlag('keys', 'List the keys that start with the prefix, not their values.'),
    recurse: boolFlag('recurse', 'Treat the argument as a prefix and print every key under it.'),
    separator: stringFlag(
      'separator',
      'With -keys, fold the listing at this separator after the prefix, like directories.',
      '/',
    ),
  },
  async run({ flags, args, api }) {
    checkArgCount(args, 1);
    const key = trimLeadingSlash(args[0] ?? '');
    if (key === '' && !flags.recurse && !flags.keys) fail('Error! Missing KEY argument');
    const kv = new Kv(api());
    const show = (value: Uint8Array) => (flags.base64 ? Buffer.from(value).toString('base64') : value);

    if (flags.keys && flags.recurse) {
      const pairs = await orFail(QUERY_ERROR, kv.list(key));
      printPairs(pairs, flags.detailed, (pair) => pair.Key);
    } else if (flags.keys) {
      for (const name of await orFail(QUERY_ERROR, kv.keys(key, flags.separator))) ui.info(name);
    } else if (flags.recurse) {
      const pairs = await orFail(QUERY_ERROR, kv.list(key));
      const line = (pair: KvPair) =>
        Buffer.concat([Buffer.from(`${pair.Key}:`), Buffer.from(show(pair.Value))]);
      printPairs(pairs, flags.detailed, line, (pair) => show(pair.Value));
    } else {
      const pair = await orFail(QUERY_ERROR, kv.get(key));
      if (pair === undefined) fail(`Error! No key exists at: ${key}`);
      ui.info(flags.detailed ? detailedPair(pair, show(pair.Value)) : show(pair.Value));
    }
    return 0;
  },
});

/** One line per pair, or with -detailed one block per pair (with `value` unless only keys were asked for). */
function printPairs(
  pairs: KvPair[],
  detailed: boolean,
  line: (pair: KvPair) => string | Uint8Array,
  value?: (pair: KvPair) => string | Uint8Array,
): void {
  pairs.forEach((pair, i) => {
    if (!detailed) {
      ui.info(line(pair));
      return;
    }
    ui.info(detailedPair(pair, value?.(pair)));
    if (i < pairs.length - 1) ui.info();
  });
}

/** The `-detailed` block; `value` is left out when only keys were asked for. */
function detailedPair(pair: KvPair, value: string | Uint8Array | undefined): Buffer {
  const rows = [
    ['CreateIndex', String(pair.CreateIndex)],
    ['Flags', String(pair.Flags)],
    ['Key', pair.Key],
    ['LockIndex', String(pair.LockIndex)],
    ['ModifyIndex', String(pair.ModifyIndex)],
    ['Session', pair.Session || '-'],
  ];
  // Without a value Consul's block ends in a newline of its own, so a blank line follows each block.
  if (value === undefined) return Buffer.from(`${alignColumns(rows, 6)}\n`);
  // The value may be binary, so it is appended after aligning the text columns. An empty value leaves "Value"
  // as the line's last cell, which Go's tabwriter does not pad.
  const block = alignColumns([...rows, value.length === 0 ? ['Value'] : ['Value', '']], 6);
  return Buffer.concat([Buffer.from(block), Buffer.from(value)]);
}
