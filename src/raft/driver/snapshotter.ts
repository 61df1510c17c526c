import type { Logger } from 'pino';
import type { StateStore } from '../../state/store.ts';
import type { InstallSnapshot } from '../core/messages.ts';
import type { RaftNode } from '../core/node.ts';
import type { NodeId } from '../core/types.ts';
import { CompactedError, UnavailableError } from '../storage/errors.ts';
import type { LogStore } from '../storage/log-store.ts';
import type { AddressBook } from './address-book.ts';
import type { SnapshotFiles } from './snapshot-files.ts';
import type { PeerTransport } from './transport.ts';
import type { SnapshotHeader } from './wire.ts';

export interface SnapshotterDeps {
  files: SnapshotFiles;
  log: LogStore;
  store: StateStore;
  book: AddressBook;
  transport: PeerTransport;
  logger: Logger;
  selfAddress: string;
  /** Entries applied since the last snapshot before the next is taken. */
  threshold: number;
  /** Entries kept in the log behind a snapshot. */
  trailingLogs: number;
  streamTimeoutMs: number;
  /** The core while the server takes part, else null. */
  node(): RaftNode | null;
  /** The core has new work (a snapshot stream ended). */
  kick(): void;
}

/**
 * Snapshots of the state machine, taken every `threshold` applied entries and followed by log compaction,
 * and the streams that carry the latest one to followers too far behind for the log.
 */
export class Snapshotter {
  /** Index of the latest snapshot this server holds (taken or installed). */
  index = 0;
  private task: Promise<void> | null = null;
  private readonly streaming = new Set<NodeId>();

  constructor(private readonly deps: SnapshotterDeps) {}

  /** Starts a snapshot at `applied` (which the core has just been told of) if enough was applied since the last. */
  maybeTake(node: RaftNode, applied: number): void {
    // A snapshot streamed from a leader that the core then found it did not need is still the newest stored,
    // and no older one can be stored after it.
    const newest = Math.max(this.index, this.deps.files.latest()?.index ?? 0);
    if (this.task || applied - newest < this.deps.threshold) return;
    this.task = this.take(node, applied)
      .catch((err: unknown) => this.deps.logger.error({ err }, 'raft: snapshot failed'))
      .finally(() => {
        this.task = null;
      });
  }

  /** Resolves once a snapshot being taken is stored (or has failed). */
  async settled(): Promise<void> {
    await this.task;
  }

  /** Streams the snapshot an install-snapshot message names; the core learns the outcome through reportSnapshot. */
  send(message: InstallSnapshot): void {
    const { to } = message;
    if (this.streaming.has(to)) return;
    this.streaming.add(to);
    this.stream(message)
      .then(
        () => true,
        (err: unknown) => {
          this.deps.logger.warn({ peer: to, err }, 'raft: failed to send a snapshot');
          return false;
        },
      )
      .then((delivered) => {
        this.streaming.delete(to);
        const node = this.deps.node();
        if (!node) return;
        node.reportSnapshot(to, delivered);
        this.deps.kick();
      });
  }

  private async take(node: RaftNode, applied: number): Promise<void> {
    const { files, store, book, log, logger, trailingLogs } = this.deps;
    // The state and its description are taken in the same turn, before anything else is applied.
    const meta = node.snapshotMetaAt(applied);
    const data = store.snapshot();
    const membership = book.members(meta.membership);
    const stored = await files.save({ index: meta.index, term: meta.term, membership }, data);
    if (!stored || this.deps.node() !== node) return;
    node.snapshotSaved(meta);
    this.index = Math.max(this.index, meta.index);
    logger.info({ index: meta.index, bytes: data.length }, 'raft: snapshot taken');
    const through = meta.index - trailingLogs;
    if (through <= log.snapshotPoint().index) return;
    try {
      await log.compact(through);
    } catch (err) {
      // A snapshot from the leader moved the log on meanwhile.
      if (!(err instanceof CompactedError || err instanceof UnavailableError)) throw err;
    }
  }

  private async stream(message: InstallSnapshot): Promise<void> {
    const { to, meta } = message;
    const address = this.deps.book.get(to);
    if (!address) throw new Error(`no address known for ${to}`);
    const reader = await this.deps.files.find(meta.index, meta.term);
    if (!reader) throw new Error(`snapshot ${meta.term}/${meta.index} is no longer kept`);
    const { index, term, membership, size, sha256 } = reader.meta;
    this.deps.logger.info({ peer: to, index, size }, 'raft: sending a snapshot');
    const header: SnapshotHeader = {
      from: this.deps.selfAddress,
      message,
      snapshot: { index, term, membership, size, sha256 },
    };
    await this.deps.transport.streamSnapshot(address, header, reader.chunks(), this.deps.streamTimeoutMs);
  }
}
