import type { Socket } from 'node:net';
import { decodeEnvelope, type Envelope } from './envelope.ts';
import { RpcProtocolError } from './errors.ts';
import { FrameDecoder } from './frame.ts';
import type { FrameLimits } from './limits.ts';
import { formatAddress } from './transport.ts';

// One socket carrying envelopes both ways, shared by the server and the client. It owns framing, the
// per-frame deadline and write batching; what the envelopes mean is up to its owner.

export interface ConnectionOwner {
  /** A valid envelope arrived; frameBytes is its size on the wire, for in-flight accounting. */
  receive(envelope: Envelope, frameBytes: number): void;
  /** The socket is gone; error says why when it was not a clean close (RpcProtocolError for bad input). */
  closed(error: Error | undefined): void;
}

export interface ConnectionOptions extends FrameLimits {
  /**
   * Stop reading while our writes are backed up, so a peer that never reads its responses cannot make us
   * buffer them without bound. Only the server side sets this: if both did, two peers each writing a lot
   * could wait on each other forever.
   */
  pauseReadsWhileBlocked?: boolean;
}

export class RpcConnection {
  readonly peer: string;
  private readonly decoder: FrameDecoder;
  private readonly aborter = new AbortController();
  private frameTimer: NodeJS.Timeout | undefined;
  private corked = false;
  private failure: Error | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
    private readonly owner: ConnectionOwner,
  ) {
    this.peer = formatAddress(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0);
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('end', () => {
      if (this.decoder.partial) {
        this.close(new RpcProtocolError('truncated', 'connection ended in the middle of a frame'));
      }
    });
    socket.on('error', (error) => {
      this.failure ??= error;
    });
    socket.on('close', () => this.finish());
    if (options.pauseReadsWhileBlocked) socket.on('drain', () => socket.resume());
  }

  /** Aborted when the connection closes, so work done for the peer can stop. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  /** Bytes written but still waiting in the socket's buffer. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /**
   * Queues a frame. Frames written in the same tick go out in one syscall. Returns false when the socket's
   * buffer is full: a sender of bulk data should then wait for drained().
   */
  write(frame: Buffer): boolean {
    if (this.socket.destroyed) return false;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    const ok = this.socket.write(frame);
    if (!ok && this.options.pauseReadsWhileBlocked) this.socket.pause();
    return ok;
  }

  /** Resolves once buffered writes have flushed, or the connection has closed. */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  close(error?: Error): void {
    this.failure ??= error;
    this.socket.destroy();
    this.finish();
  }

  /** Tells the owner once, as soon as the connection is done for: our close() need not wait for the socket's. */
  private finish(): void {
    if (this.aborter.signal.aborted) return;
    clearTimeout(this.frameTimer);
    this.aborter.abort(this.failure);
    this.owner.closed(this.failure);
  }

  private read(chunk: Buffer): void {
    try {
      const bodies = this.decoder.push(chunk);
      for (const body of bodies) {
        if (this.socket.destroyed) return;
        this.owner.receive(decodeEnvelope(body), body.length);
      }
      this.armFrameTimer(bodies.length > 0);
    } catch (error) {
      this.close(error as Error);
    }
  }

  /** Runs the deadline from the first byte of the frame in progress; a completed frame restarts it. */
  private armFrameTimer(progressed: boolean): void {
    if (!this.decoder.partial) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    } else if (!this.frameTimer) {
      this.frameTimer = setTimeout(() => {
        this.close(
          new RpcProtocolError(
            'frame_timeout',
            `frame not completed within ${this.options.frameTimeoutMs} ms`,
          ),
        );
      }, this.options.frameTimeoutMs);
    } else if (progressed) {
      this.frameTimer.refresh();
    }
  }
}
