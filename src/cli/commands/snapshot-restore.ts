import { readFile } from 'node:fs/promises';
import { checkArgCount, defineCommand, fail, orFail } from '../command.ts';
import { describeFsError } from '../data-source.ts';
import * as ui from '../ui.ts';

export const snapshotRestore = defineCommand({
  usage: `
Usage: tribune snapshot restore [options] FILE

  Replaces the servers' whole state (key/value entries, the catalog, sessions)
  with the snapshot in FILE, as written by "tribune snapshot save" or the
  /v1/snapshot endpoint. The servers check the archive's checksums first and
  refuse a damaged one.

  Restoring is meant for recovering from a disaster, typically into a fresh
  cluster: it is a low-level operation that does not ride out server failures
  while it runs.

      $ tribune snapshot restore backup.snap
`,
  http: 'client+server',
  flags: {},
  async run({ args, api }) {
    if (args.length === 0) fail('Missing FILE argument');
    checkArgCount(args, 1);
    const file = args[0]!;
    const client = api();
    const archive = await readFile(file).catch((err) =>
      fail(`Error opening snapshot file: ${describeFsError(err, file)}`),
    );
    await orFail('Error restoring snapshot', client.putIgnoringBody('/v1/snapshot', { body: archive }));
    ui.info('Restored snapshot');
    return 0;
  },
});
