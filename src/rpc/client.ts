import type { Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { RpcConnection } from './connection.ts';
import { type Envelope, encodeEnvelope, MAX_ID } from './envelope.ts';
import {
  messageOf,
  RpcConnectionError,
  RpcError,
  RpcProtocolError,
  RpcRemoteError,
  RpcTimeoutError,
} from './errors.ts';
import { DEFAULT_FRAME_LIMITS, type FrameLimits } from './limits.ts';
import { RpcClientMetrics } from './metrics.ts';
import { PING_METHOD } from './server.ts';
import { Credit } from './stream.ts';
import { parseAddress, type Transport, tcpTransport } from './transport.ts';

// Calls to one server over one persistent, multiplexed connection. The connection opens on first use and
// reopens on demand after it drops; after a failed attempt, calls fail fast until a backoff (doubling, with
// jitter) has passed, so a dead peer costs callers nothing but an immediate RpcConnectionError.

export interface RpcClientOptions {
  transport?: Transport;
  logger?: Logger;
  registry?: Registry;
  limits?: Partial<FrameLimits>;
  /** Default 5 s. */
  connectTimeoutMs?: number;
  /** Timeout of a call that names none; default 30 s. */
  timeoutMs?: number;
  /** Wait after the first failed connection attempt, doubled per further failure up to maxMs. */
  backoff?: { minMs: number; maxMs: number };
  /** Largest payload piece of a stream; default 256 KiB. */
  streamChunkBytes?: number;
  /**
   * One-way messages waiting to reach the server (dialing or in the socket's buffer) beyond which more are
   * dropped; default 64 MiB. A peer behind a black hole keeps its connection for minutes, and without a
   * bound everything sent to it meanwhile would pile up in memory and arrive at once when the link heals.
   */
  maxQueuedMessageBytes?: number;
  /**
   * A connection carrying only one-way messages hears nothing back, so a peer behind a black hole looks
   * connected while TCP retransmits into it for minutes. After `afterMs` of sending without hearing
   * anything, a ping must be answered within `timeoutMs`, or the connection is dropped and the next message
   * dials afresh. Default 2 s and 5 s (a loaded peer may be slow to answer; a false alarm costs a reconnect).
   */
  livenessProbe?: { afterMs: number; timeoutMs: number };
}

export interface CallOptions {
  timeoutMs?: number;
}

interface PendingCall {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  connection?: RpcConnection;
  /** Present for streams: the server's credit for the payload. */
  credit?: Credit;
}

interface StartedCall {
  id: number;
  result: Promise<unknown>;
  /** The connection the call went out on, or undefined if it failed before being sent. */
  sent: Promise<RpcConnection | undefined>;
}

/** Room in a frame for a chunk envelope's own fields. */
const CHUNK_ENVELOPE_BYTES = 32;

/** Stops a stream's sender once the server has answered; the answer itself is what the caller sees. */
const ANSWERED = new RpcError('the server answered before the payload was complete');

export class RpcClient {
  readonly address: string;
  private readonly host: string;
  private readonly port: number;
  private readonly transport: Transport;
  private readonly logger: Logger;
  private readonly metrics: RpcClientMetrics;
  private readonly limits: FrameLimits;
  private readonly connectTimeoutMs: number;
  private readonly timeoutMs: number;
  private readonly backoff: { minMs: number; maxMs: number };
  private readonly chunkBytes: number;
  private readonly maxQueuedMessageBytes: number;
  /** Bytes of one-way messages encoded while the connection was still being dialled. */
  private dialQueuedBytes = 0;
  private readonly livenessProbe: { afterMs: number; timeoutMs: number };
  /** When the current connection last delivered anything from the server (or opened). */
  private heardAt = 0;
  private probing = false;
  private readonly pending = new Map<number, PendingCall>();
  private lastId = 0;
  private connection: RpcConnection | undefined;
  private dialing: Promise<RpcConnection> | undefined;
  private failures = 0;
  private retryAt = 0;
  private lastFailure: Error | undefined;
  private closed = false;

  constructor(address: string, options: RpcClientOptions = {}) {
    this.address = address;
    ({ host: this.host, port: this.port } = parseAddress(address));
    this.transport = options.transport ?? tcpTransport;
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ server: address });
    this.metrics = new RpcClientMetrics(options.registry ?? new Registry());
    this.limits = { ...DEFAULT_FRAME_LIMITS, ...options.limits };
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.backoff = options.backoff ?? { minMs: 50, maxMs: 5000 };
    this.chunkBytes = options.streamChunkBytes ?? 256 * 1024;
    this.maxQueuedMessageBytes = options.maxQueuedMessageBytes ?? 64 * 1024 * 1024;
    this.livenessProbe = options.livenessProbe ?? { afterMs: 2000, timeoutMs: 5000 };
    if (this.chunkBytes < 1 || this.chunkBytes + CHUNK_ENVELOPE_BYTES > this.limits.maxFrameBytes) {
      throw new Error(`streamChunkBytes must be between 1 and maxFrameBytes - ${CHUNK_ENVELOPE_BYTES}`);
    }
  }

  /** Calls `method` and resolves with the handler's result. */
  call(method: string, body: unknown, options?: CallOptions): Promise<unknown> {
    return this.start(method, options, (id) => ({ kind: 'request', id, method, body })).result;
  }

  /**
   * Sends a one-way message: no answer, no delivery guarantee. If the server cannot be reached the message
   * is dropped, as a lost packet would be; the protocol using it (Raft) retries on its own schedule.
   */
  send(method: string, body: unknown): void {
    const queued = this.dialQueuedBytes + (this.connection?.bufferedBytes ?? 0);
    if (queued >= this.maxQueuedMessageBytes) {
      this.metrics.droppedMessages.inc();
      this.logger.debug({ method, queued }, 'rpc: message dropped: the server is not taking what was sent');
      return;
    }
    const frame = encodeEnvelope({ kind: 'message', method, body }, this.limits.maxFrameBytes);
    this.dialQueuedBytes += frame.length;
    this.connect().then(
      (connection) => {
        this.dialQueuedBytes -= frame.length;
        connection.write(frame);
        this.probeIfSilent(connection);
      },
      (error: unknown) => {
        this.dialQueuedBytes -= frame.length;
        this.logger.debug({ method, err: messageOf(error) }, 'rpc: message dropped');
      },
    );
  }

  /**
   * Calls a stream handler: `body` goes first, then `chunks` as the payload, sent only as fast as the
   * server takes it. The timeout covers the whole transfer.
   */
  async callStream(
    method: string,
    body: unknown,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options?: CallOptions,
  ): Promise<unknown> {
    const credit = new Credit();
    const call = this.start(method, options, (id) => ({ kind: 'stream', id, method, body }), credit);
    // Failures surface through the returned promise; this keeps one during the transfer from counting as unhandled.
    call.result.catch(() => {});
    const connection = await call.sent;
    if (connection) await this.sendPayload(call.id, connection, chunks, credit);
    return call.result;
  }

  /** Fails every pending call with RpcConnectionError at once and closes the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const error = new RpcConnectionError(this.address, 'client closed');
    for (const id of [...this.pending.keys()]) this.settle(id, error);
    this.connection?.close();
  }

  private start(
    method: string,
    options: CallOptions | undefined,
    envelope: (id: number) => Envelope,
    credit?: Credit,
  ): StartedCall {
    this.metrics.calls.inc();
    const id = this.nextId();
    let frame: Buffer;
    try {
      frame = encodeEnvelope(envelope(id), this.limits.maxFrameBytes);
    } catch (error) {
      this.metrics.failures.inc();
      return { id, result: Promise.reject(error), sent: Promise.resolve(undefined) };
    }
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new RpcTimeoutError(method, timeoutMs)), timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer, credit });
    });
    const sent = this.connect().then(
      (connection) => {
        const call = this.pending.get(id);
        if (!call) return undefined; // timed out, or the client closed, while connecting
        call.connection = connection;
        connection.write(frame);
        return connection;
      },
      (error: Error) => {
        this.settle(id, error);
        return undefined;
      },
    );
    return { id, result, sent };
  }

  private async sendPayload(
    id: number,
    connection: RpcConnection,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    credit: Credit,
  ): Promise<void> {
    const write = (envelope: Envelope) =>
      connection.write(encodeEnvelope(envelope, this.limits.maxFrameBytes));
    try {
      for await (const chunk of chunks) {
        for (let offset = 0; offset < chunk.length; ) {
          const size = await credit.take(Math.min(this.chunkBytes, chunk.length - offset));
          if (!write({ kind: 'chunk', id, data: chunk.subarray(offset, offset + size) })) {
            await connection.drained();
          }
          offset += size;
        }
      }
      write({ kind: 'end', id, error: null });
    } catch (error) {
      // The source failed, the call timed out or the server answered early: tell the server to stop waiting.
      write({ kind: 'end', id, error: messageOf(error) });
      this.settle(id, error as Error);
    }
  }

  /** Checks with a ping that a connection we keep sending on, and hear nothing from, still reaches the server. */
  private probeIfSilent(connection: RpcConnection): void {
    if (this.probing || Date.now() - this.heardAt < this.livenessProbe.afterMs) return;
    this.probing = true;
    this.call(PING_METHOD, null, { timeoutMs: this.livenessProbe.timeoutMs })
      .catch((error: unknown) => {
        if (!(error instanceof RpcTimeoutError) || this.connection !== connection) return;
        this.logger.warn('rpc: the server does not answer a ping; reconnecting');
        connection.close(new RpcConnectionError(this.address, 'no answer to a ping'));
      })
      .finally(() => {
        this.probing = false;
      });
  }

  private receive(connection: RpcConnection, envelope: Envelope): void {
    if (connection === this.connection) this.heardAt = Date.now();
    switch (envelope.kind) {
      case 'response': {
        // A response to a call that timed out finds nothing pending and is dropped.
        const call = this.pending.get(envelope.id);
        if (call) {
          const error = envelope.error === null ? undefined : new RpcRemoteError(call.method, envelope.error);
          this.settle(envelope.id, error, envelope.body);
        }
        return;
      }
      case 'credit':
        this.pending.get(envelope.id)?.credit?.grant(envelope.bytes);
        return;
      default:
        connection.close(
          new RpcProtocolError('unexpected', `a server does not send ${envelope.kind} frames`),
        );
    }
  }

  private settle(id: number, error: Error | undefined, value?: unknown): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    call.credit?.fail(error ?? ANSWERED);
    if (error) {
      this.metrics.failures.inc();
      call.reject(error);
    } else {
      call.resolve(value);
    }
  }

  private connect(): Promise<RpcConnection> {
    if (this.closed) return Promise.reject(new RpcConnectionError(this.address, 'client closed'));
    if (this.connection) return Promise.resolve(this.connection);
    if (this.dialing) return this.dialing;
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      const reason = `unreachable (${messageOf(this.lastFailure)}); next attempt in ${wait} ms`;
      return Promise.reject(new RpcConnectionError(this.address, reason, { cause: this.lastFailure }));
    }
    this.dialing = this.dial().finally(() => {
      this.dialing = undefined;
    });
    return this.dialing;
  }

  private async dial(): Promise<RpcConnection> {
    let socket: Socket;
    try {
      socket = await this.transport.dial(this.host, this.port, this.connectTimeoutMs);
    } catch (error) {
      this.failures++;
      const delay = Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** (this.failures - 1));
      this.retryAt = Date.now() + delay * (0.5 + Math.random() / 2);
      this.lastFailure = error as Error;
      const level = this.failures === 1 ? 'warn' : 'debug';
      this.logger[level]({ err: messageOf(error), failures: this.failures }, 'rpc: cannot connect');
      throw new RpcConnectionError(this.address, `cannot connect: ${messageOf(error)}`, { cause: error });
    }
    if (this.closed) {
      socket.destroy();
      throw new RpcConnectionError(this.address, 'client closed');
    }
    this.failures = 0;
    this.heardAt = Date.now();
    const connection: RpcConnection = new RpcConnection(socket, this.limits, {
      receive: (envelope) => this.receive(connection, envelope),
      closed: (error) => this.lost(connection, error),
    });
    this.connection = connection;
    return connection;
  }

  private lost(connection: RpcConnection, error: Error | undefined): void {
    if (this.connection === connection) this.connection = undefined;
    if (error instanceof RpcProtocolError) {
      this.logger.warn({ reason: error.reason }, `rpc: closed connection after bad input: ${error.message}`);
    } else if (!this.closed) {
      this.logger.info({ err: error?.message }, 'rpc: connection lost');
    }
    const failure = new RpcConnectionError(
      this.address,
      error ? `connection lost: ${error.message}` : 'connection closed',
      { cause: error },
    );
    for (const [id, call] of this.pending) {
      if (call.connection === connection) this.settle(id, failure);
    }
  }

  private nextId(): number {
    do {
      this.lastId = this.lastId === MAX_ID ? 1 : this.lastId + 1;
    } while (this.pending.has(this.lastId));
    return this.lastId;
  }
}
