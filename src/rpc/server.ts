import type { Server, Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { MAX_METHOD_LENGTH } from './envelope.ts';
import { DEFAULT_FRAME_LIMITS, DEFAULT_RPC_PORT } from './limits.ts';
import { RpcServerMetrics } from './metrics.ts';
import {
  type Handler,
  ServerSession,
  type SessionDeps,
  type SessionLimits,
  type StreamHandler,
} from './session.ts';
import { formatAddress, type Transport, tcpTransport } from './transport.ts';

// Accepts connections on the server RPC port and hands each to a session. Handlers are registered by method
// name; one-way messages and requests share them (a one-way message's result is discarded).

export interface ServerLimits extends SessionLimits {
  /** Connections one client IP may hold open at once (Consul's limits.rpc_max_conns_per_client). */
  maxConnectionsPerClient: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  ...DEFAULT_FRAME_LIMITS,
  maxInFlight: 4096,
  maxInFlightBytes: 64 * 1024 * 1024,
  streamWindowBytes: 4 * 1024 * 1024,
  maxConnectionsPerClient: 100,
};

export interface RpcServerOptions {
  host: string;
  /** Defaults to 8300; 0 picks a free port. */
  port?: number;
  transport?: Transport;
  logger?: Logger;
  registry?: Registry;
  limits?: Partial<ServerLimits>;
}

/** Answers true on every server: a liveness check that needs nothing but a working connection. */
export const PING_METHOD = 'Status.Ping';

export class RpcServer {
  readonly metrics: RpcServerMetrics;
  private readonly handlers = new Map<string, Handler>();
  private readonly streamHandlers = new Map<string, StreamHandler>();
  private readonly sessions = new Set<ServerSession>();
  private readonly connectionsByIp = new Map<string, number>();
  private readonly limits: ServerLimits;
  private readonly logger: Logger;
  private readonly sessionDeps: SessionDeps;
  private readonly server: Server;
  private listening: string | undefined;

  constructor(private readonly options: RpcServerOptions) {
    this.limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.metrics = new RpcServerMetrics(options.registry ?? new Registry());
    this.sessionDeps = {
      handlers: this.handlers,
      streamHandlers: this.streamHandlers,
      limits: this.limits,
      logger: this.logger,
      metrics: this.metrics,
    };
    this.server = (options.transport ?? tcpTransport).createServer((socket) => this.accept(socket));
    // Consul's name; clients use it to tell a live peer from a black hole (see RpcClient's liveness probe).
    this.handle(PING_METHOD, () => true);
    // Emitted only by TLS servers: a failed handshake never becomes a session.
    this.server.on('tlsClientError', (error: Error, socket: Socket) => {
      this.metrics.reject('tls');
      this.logger.warn({ peer: socket.remoteAddress, err: error.message }, 'rpc: TLS handshake failed');
    });
    // After listen() succeeds, errors are failed accepts (out of file descriptors): keep serving the rest.
    this.server.on('error', (error) => {
      if (this.listening) this.logger.error({ err: error.message }, 'rpc: accept failed');
    });
  }

  /** Registers the handler for requests and one-way messages named `method`. */
  handle(method: string, handler: Handler): this {
    this.register(this.handlers, method, handler);
    return this;
  }

  /** Registers the handler for streams named `method`; it reads the payload from `chunks`. */
  handleStream(method: string, handler: StreamHandler): this {
    this.register(this.streamHandlers, method, handler);
    return this;
  }

  /** Starts listening; resolves with the bound address as "host:port". */
  listen(): Promise<string> {
    const { host, port = DEFAULT_RPC_PORT } = this.options;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        const bound = this.server.address();
        this.listening = typeof bound === 'object' && bound ? formatAddress(bound.address, bound.port) : host;
        this.logger.info({ address: this.listening }, 'rpc: listening');
        resolve(this.listening);
      });
    });
  }

  /** The bound address, "host:port"; throws before listen() resolves. */
  get address(): string {
    if (!this.listening) throw new Error('rpc server is not listening');
    return this.listening;
  }

  /** Stops accepting and drops every connection; handlers still running see their ctx.signal aborted. */
  close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.close();
    return stopped;
  }

  private register<H>(table: Map<string, H>, method: string, handler: H): void {
    if (method.length === 0 || method.length > MAX_METHOD_LENGTH)
      throw new Error(`invalid method name ${method}`);
    if (this.handlers.has(method) || this.streamHandlers.has(method)) {
      throw new Error(`rpc method ${method} is already registered`);
    }
    table.set(method, handler);
  }

  private accept(socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    const open = this.connectionsByIp.get(ip) ?? 0;
    if (open >= this.limits.maxConnectionsPerClient) {
      this.metrics.reject('too_many_connections');
      this.logger.warn(
        { peer: ip, limit: this.limits.maxConnectionsPerClient },
        'rpc: too many connections from client',
      );
      socket.destroy();
      return;
    }
    this.metrics.connections.inc();
    this.connectionsByIp.set(ip, open + 1);
    const session = new ServerSession(socket, this.sessionDeps, () => {
      this.sessions.delete(session);
      const left = (this.connectionsByIp.get(ip) ?? 1) - 1;
      if (left === 0) this.connectionsByIp.delete(ip);
      else this.connectionsByIp.set(ip, left);
    });
    this.sessions.add(session);
  }
}
