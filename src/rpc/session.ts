import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { type ConnectionOwner, RpcConnection } from './connection.ts';
import { type Envelope, encodeEnvelope } from './envelope.ts';
import { messageOf, RpcConnectionError, RpcError, RpcProtocolError } from './errors.ts';
import type { FrameLimits } from './limits.ts';
import type { RpcServerMetrics } from './metrics.ts';
import { ChunkInbox } from './stream.ts';

// The server's side of one accepted connection: runs each request's handler, answers in whatever order
// handlers finish, and keeps what one connection can hold the server to within its limits.

export interface RequestContext {
  readonly method: string;
  /** The caller's address, "host:port". */
  readonly peer: string;
  /** Aborted when the caller's connection closes: nobody is waiting for the answer any more. */
  readonly signal: AbortSignal;
}

export type Handler = (body: unknown, ctx: RequestContext) => unknown;
export type StreamHandler = (
  body: unknown,
  chunks: AsyncIterable<Uint8Array>,
  ctx: RequestContext,
) => unknown;

export interface SessionLimits extends FrameLimits {
  /** Requests, one-way messages and streams being handled at once for one connection. */
  maxInFlight: number;
  /** Bytes held for one connection's in-flight work: request frames plus each open stream's window. */
  maxInFlightBytes: number;
  /** Credit each stream starts with: the most of its payload queued on the server at once. */
  streamWindowBytes: number;
}

export interface SessionDeps {
  handlers: ReadonlyMap<string, Handler>;
  streamHandlers: ReadonlyMap<string, StreamHandler>;
  limits: SessionLimits;
  logger: Logger;
  metrics: RpcServerMetrics;
}

/** Consul's wording, which callers match on to retry elsewhere. */
export const RATE_LIMIT_ERROR = 'RPC rate limit exceeded';

export class ServerSession implements ConnectionOwner {
  private readonly connection: RpcConnection;
  private readonly inboxes = new Map<number, ChunkInbox>();
  private inFlight = 0;
  private inFlightBytes = 0;

  constructor(
    socket: Socket,
    private readonly deps: SessionDeps,
    private readonly onClosed: () => void,
  ) {
    this.connection = new RpcConnection(socket, { ...deps.limits, pauseReadsWhileBlocked: true }, this);
  }

  close(): void {
    this.connection.close();
  }

  receive(envelope: Envelope, frameBytes: number): void {
    switch (envelope.kind) {
      case 'request':
      case 'message':
      case 'stream':
        this.deps.metrics.requests.inc();
        this.dispatch(envelope, frameBytes);
        return;
      case 'chunk':
        // Chunks for a stream already answered are dropped: the sender learns of the answer only later.
        if (this.inboxes.get(envelope.id)?.push(envelope.data) === false) {
          this.connection.close(
            new RpcProtocolError('credit', `stream ${envelope.id} sent more than its credit`),
          );
        }
        return;
      case 'end':
        this.inboxes
          .get(envelope.id)
          ?.end(
            envelope.error === null
              ? undefined
              : new RpcError(`stream abandoned by sender: ${envelope.error}`),
          );
        return;
      default:
        this.connection.close(
          new RpcProtocolError('unexpected', `a client does not send ${envelope.kind} frames`),
        );
    }
  }

  closed(error: Error | undefined): void {
    const { peer } = this.connection;
    if (error instanceof RpcProtocolError) {
      this.deps.metrics.reject(error.reason);
      this.deps.logger.warn(
        { peer, reason: error.reason },
        `rpc: closed connection after bad input: ${error.message}`,
      );
    } else if (error) {
      this.deps.logger.debug({ peer, err: error.message }, 'rpc: connection failed');
    }
    for (const inbox of this.inboxes.values()) inbox.end(new RpcConnectionError(peer, 'connection closed'));
    this.onClosed();
  }

  private dispatch(envelope: Extract<Envelope, { method: string }>, frameBytes: number): void {
    const { kind, method } = envelope;
    const id = kind === 'message' ? undefined : envelope.id;
    if (kind === 'stream' && this.inboxes.has(envelope.id)) {
      this.connection.close(new RpcProtocolError('unexpected', `stream id ${envelope.id} is already open`));
      return;
    }
    const handler = kind === 'stream' ? this.deps.streamHandlers.get(method) : this.deps.handlers.get(method);
    if (!handler) {
      this.reject(id, 'unknown_method', `rpc: can't find method ${method}`);
      return;
    }
    const held = frameBytes + (kind === 'stream' ? this.deps.limits.streamWindowBytes : 0);
    const { maxInFlight, maxInFlightBytes } = this.deps.limits;
    if (this.inFlight >= maxInFlight || this.inFlightBytes + held > maxInFlightBytes) {
      const holding = `${this.inFlight} requests and ${this.inFlightBytes} bytes`;
      this.reject(id, 'busy', `${RATE_LIMIT_ERROR}: this connection holds ${holding} in flight`);
      return;
    }
    this.inFlight++;
    this.inFlightBytes += held;
    const ctx: RequestContext = { method, peer: this.connection.peer, signal: this.connection.signal };
    let run: () => unknown;
    if (kind === 'stream') {
      // Opened now, not when the handler runs: the stream's chunks may be next in the same read.
      const inbox = this.openInbox(envelope.id);
      run = () => (handler as StreamHandler)(envelope.body, inbox, ctx);
    } else {
      run = () => (handler as Handler)(envelope.body, ctx);
    }
    // The executor runs the handler at once, so handlers start in arrival order; a throw becomes a rejection.
    new Promise((resolve) => resolve(run()))
      .then(
        (result) => {
          if (id !== undefined) this.reply(id, null, result);
        },
        (error: unknown) => {
          this.deps.metrics.reject('handler');
          this.deps.logger.debug({ peer: ctx.peer, method, err: messageOf(error) }, 'rpc: handler failed');
          if (id !== undefined) this.reply(id, messageOf(error), null);
        },
      )
      .finally(() => {
        this.inFlight--;
        this.inFlightBytes -= held;
        if (kind === 'stream') this.inboxes.delete(envelope.id);
      });
  }

  private openInbox(id: number): ChunkInbox {
    const inbox = new ChunkInbox(this.deps.limits.streamWindowBytes, (bytes) =>
      this.send({ kind: 'credit', id, bytes }),
    );
    this.inboxes.set(id, inbox);
    return inbox;
  }

  /** Refuses a request; a refused one-way message is only logged and counted, as nobody waits for it. */
  private reject(id: number | undefined, reason: 'unknown_method' | 'busy', message: string): void {
    this.deps.metrics.reject(reason);
    this.deps.logger.warn({ peer: this.connection.peer, reason }, message);
    if (id !== undefined) this.reply(id, message, null);
  }

  private reply(id: number, error: string | null, body: unknown): void {
    try {
      this.send({ kind: 'response', id, error, body });
    } catch (encodeError) {
      this.deps.metrics.reject('handler');
      this.send({
        kind: 'response',
        id,
        error: `rpc: cannot send the response: ${messageOf(encodeError)}`,
        body: null,
      });
    }
  }

  private send(envelope: Envelope): void {
    if (!this.connection.closed)
      this.connection.write(encodeEnvelope(envelope, this.deps.limits.maxFrameBytes));
  }
}
