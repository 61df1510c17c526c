/** Bad input to the storage layer, corrupt data on disk, or a store that can no longer write. */
export class StorageError extends Error {
  override name = 'StorageError';
}

/** The requested index lies in the compacted prefix: the caller needs the snapshot instead (etcd's ErrCompacted). */
export class CompactedError extends StorageError {
  override name = 'CompactedError';
}

/** The requested index lies past the last entry (etcd's ErrUnavailable). */
export class UnavailableError extends StorageError {
  override name = 'UnavailableError';
}
