import { createHash } from 'node:crypto';
import { parseSnapshotId, type SnapshotMeta as StoredMeta } from '../storage/snapshot-meta.ts';
import type { SnapshotReader } from '../storage/snapshot-reader.ts';
import type { NewSnapshot, SnapshotStore } from '../storage/snapshot-store.ts';
import type { SnapshotHeader } from './wire.ts';

/**
 * The driver's use of the snapshot store: snapshots it takes of the state machine and snapshots streamed in
 * from a leader. Writes run one at a time, so the store's latest snapshot only ever moves forward.
 */
export class SnapshotFiles {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: SnapshotStore) {}

  latest(): StoredMeta | null {
    return this.store.latest();
  }

  /** Stores a snapshot of the state machine; null if a snapshot at least as new is already stored. */
  save(snapshot: NewSnapshot, data: Uint8Array): Promise<StoredMeta | null> {
    return this.exclusive(async () => {
      const latest = this.store.latest();
      if (latest && latest.index >= snapshot.index) return null;
      const writer = await this.store.create(snapshot);
      try {
        await writer.write(data);
        return await writer.commit();
      } catch (err) {
        await writer.abort();
        throw err;
      }
    });
  }

  /**
   * Stores a snapshot streamed from the leader and returns its id (the handle the core hands back). The data
   * must match the size and checksum the leader's store recorded, or nothing is kept.
   */
  receive(header: SnapshotHeader['snapshot'], chunks: AsyncIterable<Uint8Array>): Promise<string> {
    return this.exclusive(async () => {
      const latest = this.store.latest();
      if (latest && latest.index === header.index && latest.term === header.term) {
        for await (const _chunk of chunks) {
          // already stored: the payload only needs draining
        }
        return latest.id;
      }
      const writer = await this.store.create(header);
      try {
        const hash = createHash('sha256');
        let size = 0;
        for await (const chunk of chunks) {
          size += chunk.length;
          if (size > header.size) throw new Error(`snapshot data is longer than ${header.size} bytes`);
          hash.update(chunk);
          await writer.write(chunk);
        }
        const digest = hash.digest('hex');
        if (size !== header.size || digest !== header.sha256) {
          throw new Error(`snapshot data (${size} bytes, sha256 ${digest}) does not match its header`);
        }
        return (await writer.commit()).id;
      } catch (err) {
        await writer.abort();
        throw err;
      }
    });
  }

  /** The stored snapshot at (index, term), if it is still kept. */
  async find(index: number, term: number): Promise<SnapshotReader | null> {
    for (const id of await this.store.list()) {
      const name = parseSnapshotId(id);
      if (name?.index === index && name.term === term) return this.store.read(id);
    }
    return null;
  }

  async readAll(id: string): Promise<{ meta: StoredMeta; data: Uint8Array }> {
    const reader = await this.store.read(id);
    const parts: Uint8Array[] = [];
    for await (const chunk of reader.chunks()) parts.push(chunk);
    return { meta: reader.meta, data: Buffer.concat(parts) };
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
