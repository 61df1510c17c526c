import type { Logger } from 'pino';
import { DEFAULT_FRAME_LIMITS } from '../../rpc/limits.ts';
import type { RpcPool } from '../../rpc/pool.ts';
import type { Message } from '../core/messages.ts';
import { entryBytes } from '../core/types.ts';
import { RaftMethod, type SnapshotHeader } from './wire.ts';

/** A batch stays well below the RPC frame limit, so appends of up to 1 MiB each go out several per frame. */
const BATCH_BYTES = DEFAULT_FRAME_LIMITS.maxFrameBytes / 2;
/** Room for a message's own fields besides its entries' data. */
const MESSAGE_OVERHEAD = 128;

/** The largest entry data that fits in one message frame, with room to spare for the message around it. */
export const MAX_ENTRY_BYTES = DEFAULT_FRAME_LIMITS.maxFrameBytes - 64 * 1024;

const messageBytes = (m: Message) =>
  MESSAGE_OVERHEAD + (m.type === 'append' ? m.entries.reduce((sum, e) => sum + entryBytes(e), 0) : 0);

/**
 * Raft traffic to peers over the server RPC pool. Messages are one-way and never awaited: each peer has its
 * own connection, so a slow or dead peer holds up nobody else, and whatever is lost the core sends again.
 */
export class PeerTransport {
  constructor(
    private readonly pool: RpcPool,
    private readonly selfAddress: string,
    private readonly logger: Logger,
  ) {}

  /** Sends `messages` to the server at `address`, batched into as few frames as fit. */
  send(address: string, messages: readonly Message[]): void {
    let batch: Message[] = [];
    let bytes = 0;
    for (const message of messages) {
      const size = messageBytes(message);
      if (batch.length > 0 && bytes + size > BATCH_BYTES) {
        this.post(address, batch);
        batch = [];
        bytes = 0;
      }
      batch.push(message);
      bytes += size;
    }
    if (batch.length > 0) this.post(address, batch);
  }

  /** Streams a snapshot's data to `address`; resolves once the receiver has stored it and stepped the message. */
  async streamSnapshot(
    address: string,
    header: SnapshotHeader,
    chunks: AsyncIterable<Uint8Array>,
    timeoutMs: number,
  ): Promise<void> {
    await this.pool.get(address).callStream(RaftMethod.installSnapshot, header, chunks, { timeoutMs });
  }

  private post(address: string, messages: Message[]): void {
    try {
      this.pool.get(address).send(RaftMethod.message, { from: this.selfAddress, messages });
    } catch (err) {
      // Only an unencodable batch throws here (an entry too large for a frame): the core will retry it, so
      // say loudly why the peer is not catching up.
      this.logger.error({ peer: address, err }, 'raft: cannot send messages');
    }
  }
}
