import { z } from 'zod';
import { joinKey, Kv } from '../../api/kv.ts';
import { decodeStdBase64 } from '../base64.ts';
import { defineCommand, fail, orFail } from '../command.ts';
import { loadDataSource } from '../data-source.ts';
import { stringFlag } from '../flags.ts';
import * as ui from '../ui.ts';

// What `kv export` writes. Go's decoder matches field names case-insensitively, so "Key" is read as "key".
const entriesSchema = z
  .array(
    z.preprocess(
      (entry) =>
        entry !== null && typeof entry === 'object'
          ? Object.fromEntries(Object.entries(entry).map(([name, value]) => [name.toLowerCase(), value]))
          : entry,
      z.object({
        key: z.string(),
        flags: z.number().int().nonnegative().default(0),
        value: z.string().default(''),
      }),
    ),
  )
  .nullable();

export const kvImport = defineCommand({
  usage: `
Usage: tribune kv import [options] DATA

  Writes the key-value pairs in DATA, JSON as "kv export" prints it. DATA may be
  read from a file with the "@" prefix or from stdin with "-".

      $ tribune kv import @vault.json
      $ tribune kv export vault/ | tribune kv import -prefix=backup -
`,
  http: 'client+server',
  flags: {
    prefix: stringFlag('prefix', 'Prefix to put in front of every imported key.'),
  },
  async run({ flags, args, api }) {
    if (args.length > 1) fail(`Error! Too many arguments (expected 1, got ${args.length})`);
    const [source] = args;
    if (source === undefined) fail('Error! Missing DATA argument');
    if (source === '') fail('Error! Empty DATA argument');
    let data: Buffer;
    try {
      data = await loadDataSource(source);
    } catch (err) {
      fail(`Error! ${(err as Error).message}`);
    }
    const entries = parseEntries(data.toString('utf8'));

    const kv = new Kv(api());
    for (const entry of entries) {
      let value: Buffer;
      try {
        value = decodeStdBase64(entry.value);
      } catch (err) {
        fail(`Error base 64 decoding value for key ${entry.key}: ${(err as Error).message}`);
      }
      // Joining cleans the path; a trailing slash marks a "folder" key and must survive it.
      let key = joinKey(flags.prefix, entry.key);
      if (entry.key.endsWith('/')) key += '/';
      await orFail(
        `Error! Failed writing data for key ${key}`,
        kv.put(key, value, { flags: BigInt(entry.flags) }),
      );
      ui.info(`Imported: ${key}`);
    }
    return 0;
  },
});

function parseEntries(text: string) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(`Cannot unmarshal data: ${(err as Error).message}`);
  }
  const result = entriesSchema.safeParse(json);
  if (!result.success) fail(`Cannot unmarshal data: ${z.prettifyError(result.error)}`);
  return result.data ?? [];
}
