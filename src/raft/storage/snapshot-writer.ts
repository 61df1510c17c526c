import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './errors.ts';
import { fsyncDir } from './fsync.ts';
import { formatMeta, type SnapshotMeta } from './snapshot-meta.ts';

export const DATA_FILE = 'state.bin';
export const META_FILE = 'meta.json';

/** Where a snapshot is being written and where it goes once complete. */
export interface SnapshotPaths {
  /** `<snapshots>/<id>.tmp`: invisible to readers, removed on the next open if the writer never finishes. */
  temp: string;
  final: string;
  /** The folder holding every snapshot, synced after the rename. */
  parent: string;
}

/**
 * Receives one snapshot's data in chunks (from the FSM, or from a leader's InstallSnapshot) without holding
 * it in memory. `commit` makes it durable and visible atomically; until then it does not exist.
 */
export class SnapshotWriter {
  private readonly hash = createHash('sha256');
  private size = 0;
  private busy = false;
  private finished = false;

  constructor(
    private readonly meta: Omit<SnapshotMeta, 'size' | 'sha256'>,
    private readonly file: FileHandle,
    private readonly paths: SnapshotPaths,
    private readonly onCommit: (meta: SnapshotMeta) => Promise<void>,
  ) {}

  /** Appends a chunk. Await each write before the next: chunks land in call order only that way. */
  async write(chunk: Uint8Array): Promise<void> {
    this.enter('write');
    try {
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await this.file.write(chunk, written, chunk.length - written, null);
        written += bytesWritten;
      }
      this.hash.update(chunk);
      this.size += chunk.length;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Syncs the data and metadata, then the temp folder, renames it into place and syncs the parent: after
   * this resolves the snapshot survives a crash whole, and before it nothing of it is visible.
   */
  async commit(): Promise<SnapshotMeta> {
    this.enter('commit');
    this.finished = true;
    const meta: SnapshotMeta = { ...this.meta, size: this.size, sha256: this.hash.digest('hex') };
    try {
      await this.file.sync();
      await this.file.close();
      await writeFile(join(this.paths.temp, META_FILE), formatMeta(meta), { flush: true });
      await fsyncDir(this.paths.temp);
      await rename(this.paths.temp, this.paths.final);
      await fsyncDir(this.paths.parent);
    } catch (err) {
      await this.discard();
      throw new StorageError(`snapshot ${meta.id}: commit failed: ${(err as Error).message}`, { cause: err });
    } finally {
      this.busy = false;
    }
    await this.onCommit(meta);
    return meta;
  }

  /** Throws the partial snapshot away. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.enter('abort');
    this.finished = true;
    await this.discard();
    this.busy = false;
  }

  private enter(what: string): void {
    if (this.finished) throw new StorageError(`snapshot ${this.meta.id}: ${what} after commit or abort`);
    if (this.busy) throw new StorageError(`snapshot ${this.meta.id}: ${what} while a write is in progress`);
    this.busy = true;
  }

  private async discard(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.paths.temp, { recursive: true, force: true });
  }
}
