import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readArchive, type SnapshotMeta } from '../../state/snapshot-archive.ts';
import { checkArgCount, defineCommand, fail } from '../command.ts';
import { describeFsError } from '../data-source.ts';
import { boolFlag, intFlag, stringFlag } from '../flags.ts';
import { formatJson, formatPretty, type SnapshotMetaInfo, stateStats } from '../snapshot-stats.ts';
import * as ui from '../ui.ts';

const FORMATS = ['pretty', 'json'] as const;

export const snapshotInspect = defineCommand({
  usage: `
Usage: tribune snapshot inspect [options] FILE

  Describes a snapshot file without contacting an agent: its ID, size, Raft
  index and term, and how many records of each type it holds and how much space
  they take. The archive's checksums are verified first.

      $ tribune snapshot inspect backup.snap

  -kvdetails breaks the key/value space down by key prefix, -kvdepth segments
  deep, optionally only under -kvfilter:

      $ tribune snapshot inspect -kvdetails -kvdepth=3 -kvfilter=vault backup.snap

  A FILE named state.bin is read as the raw state of an unpacked archive, with
  its meta.json from the same directory.
`,
  http: 'none',
  flags: {
    detailed: boolFlag('detailed', 'Same as -kvdetails.'),
    format: stringFlag('format', `Output format {${FORMATS.join('|')}}`, 'pretty'),
    kvdepth: intFlag(
      'kvdepth',
      'With -kvdetails, how many segments of each key (split at "/") make its group.',
      2,
    ),
    kvdetails: boolFlag('kvdetails', 'Break down the space key/value data takes by key prefix.'),
    kvfilter: stringFlag('kvfilter', 'With -kvdetails, only count keys that start with this prefix.'),
  },
  async run({ flags, args }) {
    if (args.length === 0) fail('Missing FILE argument');
    checkArgCount(args, 1);
    const file = args[0]!;

    const { meta, state } = await readSnapshotFile(file);
    let stats: ReturnType<typeof stateStats>;
    try {
      stats = stateStats(
        state,
        flags.kvdetails || flags.detailed ? { depth: flags.kvdepth, filter: flags.kvfilter } : undefined,
      );
    } catch (err) {
      fail(`Error extracting snapshot data: ${(err as Error).message}`);
    }

    if (!(FORMATS as readonly string[]).includes(flags.format))
      fail(`Error outputting enhanced snapshot data: Unknown format: ${flags.format}`);
    ui.info(flags.format === 'json' ? formatJson(meta, stats) : formatPretty(meta, stats));
    return 0;
  },
});

/** The metadata and state of an archive (checksums verified), or of a state.bin beside its meta.json. */
async function readSnapshotFile(file: string): Promise<{ meta: SnapshotMetaInfo; state: Buffer }> {
  const bytes = await readFile(file).catch((err) =>
    fail(`Error opening snapshot file: ${describeFsError(err, file)}`),
  );
  if (basename(file).toLowerCase() === 'state.bin') {
    const metaPath = join(dirname(file), 'meta.json');
    const metaJson = await readFile(metaPath, 'utf8').catch((err) =>
      fail(`Error reading meta.json from internal snapshot dir: ${describeFsError(err, metaPath)}`),
    );
    let meta: unknown;
    try {
      meta = JSON.parse(metaJson);
    } catch (err) {
      fail(`Error parsing meta.json from internal snapshot dir: ${(err as Error).message}`);
    }
    return { meta: metaInfo(meta, 'Error parsing meta.json from internal snapshot dir'), state: bytes };
  }
  let archive: { meta: SnapshotMeta; state: Buffer };
  try {
    archive = await readArchive(bytes);
  } catch (err) {
    fail(`Error reading snapshot: ${(err as Error).message}`);
  }
  return { meta: metaInfo(archive.meta, 'Error reading snapshot'), state: archive.state };
}

/** The fields inspect prints, checked to be what Raft's snapshot metadata holds. */
function metaInfo(value: unknown, prefix: string): SnapshotMetaInfo {
  const meta = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const number = (name: string) => {
    const field = meta[name] ?? 0;
    if (typeof field !== 'number' || !Number.isInteger(field) || field < 0)
      fail(`${prefix}: meta.json field ${name} is not a non-negative integer`);
    return field;
  };
  const id = meta.ID ?? '';
  if (typeof id !== 'string') fail(`${prefix}: meta.json field ID is not a string`);
  return {
    ID: id,
    Size: number('Size'),
    Index: number('Index'),
    Term: number('Term'),
    Version: number('Version'),
  };
}
