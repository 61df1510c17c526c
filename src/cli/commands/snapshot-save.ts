import { open, readFile, rename, rm } from 'node:fs/promises';
import { extname } from 'node:path';
import type { ReadableStream } from 'node:stream/web';
import { z } from 'zod';
import { readArchive } from '../../state/snapshot-archive.ts';
import { checkArgCount, defineCommand, fail, orFail } from '../command.ts';
import { describeFsError } from '../data-source.ts';
import { stringFlag } from '../flags.ts';
import * as ui from '../ui.ts';

const selfSchema = z.object({
  Config: z.record(z.string(), z.unknown()).optional(),
  Stats: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

export const snapshotSave = defineCommand({
  usage: `
Usage: tribune snapshot save [options] FILE

  Saves a point-in-time snapshot of the servers' state (key/value entries, the
  catalog, sessions) to FILE, in the archive format Consul uses. The file is
  written under FILE.unverified first, checked against its checksums, and only
  then renamed to FILE.

      $ tribune snapshot save backup.snap

  Without a leader, -stale lets any server answer, possibly with older data:

      $ tribune snapshot save -stale backup.snap
`,
  http: 'client+server',
  flags: {
    appendFilename: stringFlag(
      'append-filename',
      'Comma-separated parts to append to the file name, before its extension: version, dc, node ' +
        'and/or status (leader or follower of the answering agent), in that order.',
    ),
  },
  async run({ flags, args, api }) {
    if (args.length === 0) fail('Missing FILE argument');
    checkArgCount(args, 1);
    let file = args[0]!;
    const client = api();

    const parts = flags.appendFilename === '' ? [] : flags.appendFilename.split(',');
    if (parts.length > 0) {
      const self = await orFail(
        'Error connecting to Consul agent and fetching datacenter/version',
        client.get('/v1/agent/self', selfSchema),
      );
      const ext = extname(file);
      let name = file.slice(0, file.length - ext.length);
      const config = self.Config ?? {};
      const append = (part: string, value: unknown) => {
        if (parts.includes(part) && typeof value === 'string') name += `-${value}`;
      };
      append('version', config.Version);
      append('dc', config.Datacenter);
      append('node', config.NodeName);
      const leader = self.Stats?.consul?.leader;
      if (leader !== undefined) append('status', leader === 'true' ? 'leader' : 'follower');
      file = name + ext;
    }

    const { response, lastIndex } = await orFail('Error saving snapshot', client.getStream('/v1/snapshot'));

    const unverified = `${file}.unverified`;
    try {
      await writeSynced(unverified, response).catch((err) =>
        fail(`Error writing unverified snapshot file: ${describeFsError(err, unverified)}`),
      );
      const archive = await readFile(unverified).catch((err) =>
        fail(`Error opening snapshot file for verify: ${describeFsError(err, unverified)}`),
      );
      await orFail('Error verifying snapshot file', readArchive(archive));
      await rename(unverified, file).catch((err) =>
        fail(`Error renaming "${unverified}" to "${file}": ${(err as Error).message}`),
      );
    } finally {
      await rm(unverified, { force: true });
    }

    ui.info(`Saved and verified snapshot to index ${lastIndex}`);
    return 0;
  },
});

/** Streams the answer into a new file readable only by its owner, flushed to disk before it is closed. */
async function writeSynced(path: string, response: Response): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    if (response.body !== null) {
      for await (const chunk of response.body as ReadableStream<Uint8Array>) await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
