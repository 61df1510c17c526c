import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { requireCount } from './checks.ts';
import { StorageError } from './errors.ts';
import { fsyncDir } from './fsync.ts';
import {
  checkMembership,
  newestFirst,
  parseMeta,
  parseSnapshotId,
  type SnapshotMeta,
  snapshotId,
} from './snapshot-meta.ts';
import { missingIsCorrupt, type SnapshotReader, snapshotReader } from './snapshot-reader.ts';
import { DATA_FILE, META_FILE, SnapshotWriter } from './snapshot-writer.ts';
import type { Member } from './types.ts';

// FSM snapshots as files under `<data-dir>/raft/snapshots/`, one folder per snapshot holding `state.bin`
// and `meta.json`. A snapshot is written under a temp name, synced, renamed into place; the last two are
// kept. On open the newest snapshot that checks out whole is the latest; a torn or corrupt newer one is
// removed and reported, so a crash never leaves the server without the snapshot before it. Only proven
// damage discards a snapshot: an I/O or permission error fails the open instead.

const FOLDER = 'snapshots';
const TEMP_SUFFIX = '.tmp';
const RETAINED = 2;

/** What a new snapshot covers; size and checksum are worked out as it is written. */
export interface NewSnapshot {
  index: number;
  term: number;
  membership: Member[];
}

/** A snapshot found broken on open, and why. It has been deleted. */
export interface DiscardedSnapshot {
  id: string;
  reason: string;
}

export class SnapshotStore {
  private lastStamp = 0;

  private constructor(
    private readonly dir: string,
    private newest: SnapshotMeta | null,
    /** Snapshots found broken (and deleted) when the store was opened, for the caller to log. */
    readonly discarded: readonly DiscardedSnapshot[],
  ) {}

  /** Opens the snapshots under `raftDir` (normally `<data-dir>/raft`), verifying the newest in full. */
  static async open(raftDir: string): Promise<SnapshotStore> {
    const dir = join(raftDir, FOLDER);
    await mkdir(dir, { recursive: true });
    await fsyncDir(raftDir);
    const names = await readdir(dir);
    for (const name of names.filter((n) => n.endsWith(TEMP_SUFFIX))) {
      await rm(join(dir, name), { recursive: true, force: true });
    }
    const discarded: DiscardedSnapshot[] = [];
    let newest: SnapshotMeta | null = null;
    for (const id of names.filter((n) => parseSnapshotId(n) !== null).sort(newestFirst)) {
      try {
        newest = await verify(dir, id);
        break;
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        discarded.push({ id, reason: err.message });
        await rm(join(dir, id), { recursive: true, force: true });
      }
    }
    await fsyncDir(dir);
    return new SnapshotStore(dir, newest, discarded);
  }

  /** The newest complete snapshot, or null when there is none. */
  latest(): SnapshotMeta | null {
    return this.newest;
  }

  /** Starts writing a snapshot; it becomes visible (and the latest) when the writer commits. */
  async create(snapshot: NewSnapshot): Promise<SnapshotWriter> {
    const { index, term, membership } = checkNewSnapshot(snapshot);
    if (this.newest && index < this.newest.index) {
      throw new StorageError(
        `snapshot at ${index} is older than the latest snapshot at ${this.newest.index}`,
      );
    }
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    const id = snapshotId({ term, index, stamp: this.lastStamp });
    const temp = join(this.dir, id + TEMP_SUFFIX);
    await mkdir(temp);
    const file = await open(join(temp, DATA_FILE), 'wx');
    const paths = { temp, final: join(this.dir, id), parent: this.dir };
    return new SnapshotWriter({ id, index, term, membership }, file, paths, (meta) => this.committed(meta));
  }

  /** Opens a snapshot for streaming; its chunks are checked against the metadata as they are read. */
  async read(id: string): Promise<SnapshotReader> {
    if (parseSnapshotId(id) === null) throw new StorageError(`${JSON.stringify(id)} is not a snapshot id`);
    return snapshotReader(await readMeta(this.dir, id), join(this.dir, id, DATA_FILE));
  }

  /** Snapshot ids on disk, newest first (the latest and the one kept before it). */
  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((name) => parseSnapshotId(name) !== null).sort(newestFirst);
  }

  private async committed(meta: SnapshotMeta): Promise<void> {
    this.newest = meta;
    for (const id of (await this.list()).slice(RETAINED)) {
      await rm(join(this.dir, id), { recursive: true, force: true });
    }
  }
}

/** Reads the metadata of snapshot `id` and checks that its data file has the size it claims. */
async function readMeta(dir: string, id: string): Promise<SnapshotMeta> {
  const text = await readFile(join(dir, id, META_FILE), 'utf8').catch(missingIsCorrupt(id, 'meta.json'));
  const meta = parseMeta(text, id);
  const data = await stat(join(dir, id, DATA_FILE)).catch(missingIsCorrupt(id, 'its data file'));
  if (data.size !== meta.size) {
    throw new StorageError(`snapshot ${id}: data is ${data.size} bytes, metadata says ${meta.size} (torn?)`);
  }
  return meta;
}

/** Reads snapshot `id` through, so its checksum is checked, and returns its metadata. */
async function verify(dir: string, id: string): Promise<SnapshotMeta> {
  const reader = snapshotReader(await readMeta(dir, id), join(dir, id, DATA_FILE));
  for await (const _chunk of reader.chunks()) {
    // reading is the check
  }
  return reader.meta;
}

function checkNewSnapshot(snapshot: NewSnapshot): NewSnapshot {
  return {
    index: requireCount(snapshot.index, 'snapshot index'),
    term: requireCount(snapshot.term, 'snapshot term'),
    membership: checkMembership(snapshot.membership),
  };
}
