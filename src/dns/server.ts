import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ReadGate } from '../http/context.ts';
import type { StateStore } from '../state/store.ts';
import { DnsCatalog } from './catalog.ts';
import { DnsHandler, type Transport } from './handler.ts';
import type { DnsMetrics } from './metrics.ts';
import type { DnsOptions } from './options.ts';
import { Recursors } from './recursor.ts';

// The DNS server's sockets: UDP and TCP on the same address and port (the client address and -dns-port). TCP
// carries messages behind a 2-byte length, several per connection, answered in order. Limits keep a hostile
// or broken client from holding more than its share: queries in flight, connections, idle time, and what one
// connection may queue or leave unread.

/** UDP queries being answered at once; more are dropped (the client retries). */
const MAX_UDP_IN_FLIGHT = 4096;
const MAX_TCP_CONNECTIONS = 512;
/** miekg/dns's idle timeout for TCP connections. */
const TCP_IDLE_MS = 8000;
/** Messages a connection may queue before it is paused until they are answered. */
const TCP_QUEUE_PAUSE = 8;
/** Replies a client may leave unread before its connection is dropped. */
const TCP_MAX_UNREAD = 1 << 20;
/** With port 0, attempts at finding a port free for both UDP and TCP. */
const PORT_ATTEMPTS = 20;

export interface DnsServerDeps {
  options: DnsOptions;
  host: string;
  port: number;
  store: StateStore;
  reads: ReadGate;
  log: Logger;
  metrics?: DnsMetrics;
  /** Answers messages some other way than from `store`: a client agent asks a server. */
  handle?: (packet: Buffer, transport: Transport) => Promise<Buffer | undefined>;
}

export class DnsServer {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private readonly handler: Pick<DnsHandler, 'handle'>;
  private udpInFlight = 0;
  private closed = false;

  constructor(private readonly deps: DnsServerDeps) {
    const { options, store, reads, log, metrics, handle } = deps;
    if (handle) {
      this.handler = { handle };
      return;
    }
    const catalog = new DnsCatalog(
      store,
      reads,
      { allowStale: options.config.allowStale, maxStaleMs: options.config.maxStaleMs },
      () => metrics?.staleQuery(),
    );
    const recursors = new Recursors(options.recursors, options.config.recursorTimeoutMs, log);
    this.handler = new DnsHandler(options, catalog, recursors, log, metrics);
  }

  /** host:port the server listens on (UDP and TCP alike). */
  get address(): string {
    const address = this.udp?.address();
    if (!address) return '';
    return address.family === 'IPv6'
      ? `[${address.address}]:${address.port}`
      : `${address.address}:${address.port}`;
  }

  async start(): Promise<void> {
    const { host, port } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const udp = await this.bindUdp(host, port);
      const bound = udp.address().port;
      try {
        this.tcp = await this.bindTcp(host, bound);
        this.udp = udp;
        break;
      } catch (err) {
        udp.close();
        // With a chosen port, TCP's port is taken: only an OS-chosen one can be tried again.
        if (port !== 0 || attempt >= PORT_ATTEMPTS || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE')
          throw err;
      }
    }
    this.deps.log.info({ address: this.address }, 'DNS server listening');
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const socket of this.connections) socket.destroy();
    const tcp = this.tcp;
    const udp = this.udp;
    this.tcp = undefined;
    this.udp = undefined;
    await Promise.all([
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
      udp ? new Promise<void>((resolve) => udp.close(() => resolve())) : undefined,
    ]);
  }

  private async bindUdp(host: string, port: number): Promise<UdpSocket> {
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    socket.on('error', (err) => this.deps.log.warn({ err }, 'DNS UDP socket error'));
    socket.on('message', (packet, remote) => this.serveUdp(socket, packet, remote.address, remote.port));
    return socket;
  }

  private serveUdp(socket: UdpSocket, packet: Buffer, address: string, port: number): void {
    if (this.closed || port === 0 || this.udpInFlight >= MAX_UDP_IN_FLIGHT) return;
    this.udpInFlight++;
    this.handler
      .handle(packet, 'udp')
      .then((reply) => {
        if (reply && !this.closed) socket.send(reply, port, address, () => {});
      })
      .finally(() => {
        this.udpInFlight--;
      });
  }

  private async bindTcp(host: string, port: number): Promise<Server> {
    const server = createServer((socket) => this.serveTcp(socket));
    server.maxConnections = MAX_TCP_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.deps.log.warn({ err }, 'DNS TCP server error'));
    return server;
  }

  private serveTcp(socket: Socket): void {
    this.connections.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
    let buffered: Buffer = Buffer.alloc(0);
    const queue: Buffer[] = [];
    let busy = false;

    const drain = async () => {
      if (busy) return;
      busy = true;
      while (queue.length > 0 && !socket.destroyed) {
        const reply = await this.answer(queue.shift()!, 'tcp');
        if (!reply || socket.destroyed) continue;
        const frame = Buffer.allocUnsafe(2 + reply.length);
        frame.writeUInt16BE(reply.length, 0);
        reply.copy(frame, 2);
        socket.write(frame);
        if (socket.writableLength > TCP_MAX_UNREAD) socket.destroy();
      }
      busy = false;
      if (socket.isPaused() && !socket.destroyed) socket.resume();
    };

    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        queue.push(Buffer.from(buffered.subarray(2, 2 + length)));
        buffered = buffered.subarray(2 + length);
      }
      if (queue.length >= TCP_QUEUE_PAUSE) socket.pause();
      void drain();
    });
  }

  /** The reply to one message, as this server would send it (also for messages clients forward). */
  answer(packet: Buffer, transport: Transport): Promise<Buffer | undefined> {
    return this.handler.handle(packet, transport);
  }
}
