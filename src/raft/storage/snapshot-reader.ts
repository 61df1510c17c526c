import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { StorageError } from './errors.ts';
import type { SnapshotMeta } from './snapshot-meta.ts';

const DEFAULT_CHUNK_BYTES = 1 << 20;

/** A snapshot's metadata and its data as chunks, read from disk as they are consumed. */
export interface SnapshotReader {
  meta: SnapshotMeta;
  /**
   * The data in chunks of up to `chunkSize` bytes (each a fresh buffer the consumer may keep). Throws at the
   * end if the data does not match the size and checksum in the metadata, so a corrupt snapshot is never
   * taken for a whole one.
   */
  chunks(chunkSize?: number): AsyncGenerator<Uint8Array>;
}

export function snapshotReader(meta: SnapshotMeta, dataPath: string): SnapshotReader {
  return { meta, chunks: (chunkSize = DEFAULT_CHUNK_BYTES) => readChunks(meta, dataPath, chunkSize) };
}

async function* readChunks(
  meta: SnapshotMeta,
  dataPath: string,
  chunkSize: number,
): AsyncGenerator<Uint8Array> {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new StorageError(`snapshot chunk size must be a positive integer, got ${chunkSize}`);
  }
  const file = await open(dataPath, 'r').catch(missingIsCorrupt(meta.id, 'its data file'));
  try {
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const chunk = new Uint8Array(chunkSize);
      const { bytesRead } = await file.read(chunk, 0, chunkSize, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size > meta.size)
        throw new StorageError(`snapshot ${meta.id}: data is longer than ${meta.size} bytes`);
      const data = chunk.subarray(0, bytesRead);
      hash.update(data);
      yield data;
    }
    if (size !== meta.size) {
      throw new StorageError(
        `snapshot ${meta.id}: data is ${size} bytes, metadata says ${meta.size} (torn?)`,
      );
    }
    const digest = hash.digest('hex');
    if (digest !== meta.sha256) {
      throw new StorageError(`snapshot ${meta.id}: data checksum ${digest} does not match ${meta.sha256}`);
    }
  } finally {
    await file.close();
  }
}

/**
 * For reads of a snapshot's files: a missing file makes the snapshot broken (a StorageError); any other
 * failure (permissions, I/O) is no verdict on the snapshot and passes through as is.
 */
export function missingIsCorrupt(id: string, what: string): (err: NodeJS.ErrnoException) => never {
  return (err) => {
    if (err.code === 'ENOENT') throw new StorageError(`snapshot ${id}: ${what} is missing`);
    throw err;
  };
}
