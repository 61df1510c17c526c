// The shapes Raft storage deals in. The Raft core reads its log synchronously through `LogView`; writes go
// through `LogStore` and resolve once they are on disk.

/** One Raft log entry. `type` names what `data` holds (a state command, a membership change, a no-op...). */
export interface LogEntry {
  index: number;
  term: number;
  type: string;
  data: Uint8Array;
}

/** What a server must remember across restarts besides its log. `vote` is the server ID voted for in `term`. */
export interface HardState {
  term: number;
  vote: string | null;
  commit: number;
}

/** The last entry a snapshot covers: where the log's compacted prefix ends. `{0, 0}` when nothing is compacted. */
export interface SnapshotPoint {
  index: number;
  term: number;
}

/**
 * The durable log as the Raft core sees it, in etcd's terms: `firstIndex()` is the first entry still held
 * (the snapshot point + 1), `lastIndex()` the last one (the snapshot point when the log is empty), `term(i)`
 * answers for the snapshot point and every held entry, and `entries(lo, hi)` returns `[lo, hi)`, stopping
 * once `maxBytes` would be exceeded (but always with at least one entry, so a caller always makes progress).
 */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  term(index: number): number;
  entries(lo: number, hi: number, maxBytes?: number): LogEntry[];
}

/** One server of the cluster configuration a snapshot was taken under. */
export interface Member {
  id: string;
  address: string;
  voter: boolean;
}
