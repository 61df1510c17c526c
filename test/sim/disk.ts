import { MemoryStorage } from '../../src/raft/core/memory-storage.ts';
import type { Random } from '../../src/raft/core/prng.ts';
import type { Entry, HardState, SnapshotMeta } from '../../src/raft/core/types.ts';

type Write =
  | { kind: 'hard-state'; state: HardState }
  | { kind: 'entries'; entries: Entry[] }
  | { kind: 'snapshot'; meta: SnapshotMeta; data: Uint8Array };

export interface StoredSnapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/** What a server finds on its disk: hard state, log, and snapshots (the latest and the one before, kept for
 * streams to followers that started before the latest was taken, as Tribune's snapshot store does). */
export interface DiskImage {
  hardState: HardState;
  storage: MemoryStorage;
  snapshot: StoredSnapshot;
  previousSnapshot: StoredSnapshot | null;
}

const emptyImage = (entries: Entry[] = []): DiskImage => ({
  hardState: { term: 0, vote: null, commit: 0 },
  storage: new MemoryStorage(entries),
  snapshot: { meta: { index: 0, term: 0, membership: { voters: [], learners: [] } }, data: new Uint8Array() },
  previousSnapshot: null,
});

const cloneImage = (image: DiskImage): DiskImage => ({ ...image, storage: image.storage.clone() });

/** The stored snapshot at `index`, if still kept. */
export const snapshotAt = (image: DiskImage, index: number): StoredSnapshot | null =>
  [image.snapshot, image.previousSnapshot].find((stored) => stored?.meta.index === index) ?? null;

function keepSnapshot(image: DiskImage, snapshot: StoredSnapshot): void {
  image.previousSnapshot = image.snapshot;
  image.snapshot = snapshot;
}

/**
 * A disk with a page cache: writes are visible at once (`live`) but survive a crash only once synced
 * (`durable`). A crash keeps a random prefix of the unsynced writes, as a kernel flushing on its own might.
 */
export class SimDisk {
  durable: DiskImage = emptyImage();
  live: DiskImage = emptyImage();
  private unsynced: Write[] = [];

  constructor(
    /** Called with the durable commit index before and after each change, to check it never goes back. */
    private readonly onDurableCommit: (before: number, after: number) => void,
  ) {}

  /** Writes the initial state of a bootstrapped server, durably. */
  format(entries: Entry[], hardState: HardState): void {
    this.durable = { ...emptyImage(entries), hardState };
    this.live = cloneImage(this.durable);
  }

  write(write: Write): void {
    apply(this.live, write);
    this.unsynced.push(write);
  }

  sync(): void {
    this.persist(this.unsynced);
    this.unsynced = [];
  }

  /** Saves a snapshot taken locally, durably (temp file, fsync, rename), and compacts the log to `compactTo`. */
  saveSnapshot(meta: SnapshotMeta, data: Uint8Array, compactTo: number): void {
    for (const image of [this.live, this.durable]) {
      keepSnapshot(image, { meta, data });
      image.storage.compact(compactTo);
    }
  }

  /** Loses the page cache except for a random prefix of it; the live image becomes what survived. */
  crash(random: Random): void {
    this.persist(this.unsynced.slice(0, random.int(this.unsynced.length + 1)));
    this.unsynced = [];
    this.live = cloneImage(this.durable);
  }

  private persist(writes: readonly Write[]): void {
    const before = durableCommit(this.durable);
    for (const write of writes) apply(this.durable, write);
    this.onDurableCommit(before, durableCommit(this.durable));
  }
}

const durableCommit = (image: DiskImage) => Math.max(image.hardState.commit, image.snapshot.meta.index);

function apply(image: DiskImage, write: Write): void {
  switch (write.kind) {
    case 'hard-state':
      image.hardState = write.state;
      return;
    case 'entries':
      image.storage.append(write.entries);
      return;
    case 'snapshot':
      image.storage.installSnapshot(write.meta);
      keepSnapshot(image, { meta: write.meta, data: write.data });
      return;
  }
}
