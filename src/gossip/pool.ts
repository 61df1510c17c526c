import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { seededRandom } from '../raft/core/prng.ts';
import { bytesToIp, ipToBytes, splitHostPort } from './address.ts';
import type { GossipConfig } from './core/config.ts';
import { GossipCore } from './core/core.ts';
import type { Address, GossipEvent, OutPacket, StreamRequest } from './core/types.ts';
import { Serf } from './serf/serf.ts';
import type { SerfConfig, SerfEvent, SerfMember } from './serf/types.ts';
import {
  decodePacket,
  encodeMessage,
  encodePacket,
  encodeStream,
  type Keyring,
  readStreamMessage,
} from './wire/index.ts';

// One gossip pool (LAN or WAN): the SWIM core and serf's layer on a UDP socket and a TCP listener sharing one
// port, as memberlist binds them. The core decides; this file only moves bytes and keeps time.

export interface GossipPoolOptions {
  name: string;
  bindAddr: string;
  bindPort: number;
  /** What others are told to reach; defaults to the bind address and port. */
  advertiseAddr?: string;
  advertisePort?: number;
  tags: Record<string, string>;
  config: Partial<GossipConfig>;
  serf?: Partial<SerfConfig>;
  keyring?: Keyring;
  logger: Logger;
}

/** memberlist's TCPTimeout. */
const STREAM_TIMEOUT_MS = 10_000;
/** serf's reap interval. */
const REAP_INTERVAL_MS = 15_000;
/** serf's broadcast timeout: how long a leave waits for its intent to be gossiped. */
const BROADCAST_TIMEOUT_MS = 5_000;

export class GossipPool {
  private udp!: UdpSocket;
  private tcp: Server | undefined;
  private core!: GossipCore;
  private serf!: Serf;
  private timer: NodeJS.Timeout | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(event: SerfEvent) => void>();
  private readonly joins = new Map<number, (ok: boolean) => void>();
  private readonly sockets = new Set<Socket>();
  /** Conditions awaited by `until`, checked after every flush. */
  private readonly waiters = new Set<() => void>();
  private leaveSent: (() => void) | undefined;
  private stopped = false;
  private boundPort = 0;

  constructor(private readonly options: GossipPoolOptions) {}

  /** The port actually bound (the configured one may be 0). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { bindAddr, bindPort } = this.options;
    const tcp = createServer((socket) => this.accept(socket));
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host: bindAddr, port: bindPort }, () => resolve());
    });
    this.boundPort = (tcp.address() as { port: number }).port;
    this.udp = createSocket(isIPv6(bindAddr) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      this.udp.once('error', reject);
      this.udp.bind({ address: bindAddr, port: this.boundPort }, () => resolve());
    });
    this.udp.on('message', (packet, from) => this.receivePacket(packet, from.address, from.port));
    this.udp.on('error', (err) => this.options.logger.warn({ err }, 'gossip: UDP socket error'));
    tcp.on('error', (err) => this.options.logger.warn({ err }, 'gossip: TCP listener error'));

    const now = Date.now();
    this.serf = new Serf({
      name: this.options.name,
      tags: this.options.tags,
      numNodes: () => this.core.estNumNodes(),
      config: this.options.serf,
    });
    this.core = new GossipCore({
      name: this.options.name,
      addr: ipToBytes(this.options.advertiseAddr ?? bindAddr),
      port: this.options.advertisePort ?? this.boundPort,
      meta: this.serf.meta(),
      config: this.options.config,
      random: seededRandom(randomInt(2 ** 31)),
      now,
      delegate: this.serf,
    });
    this.reaper = setInterval(() => {
      this.serf.reap(Date.now());
      this.deliver();
    }, REAP_INTERVAL_MS);
    this.reaper.unref();
    this.flush();
  }

  onEvent(listener: (event: SerfEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  members(): SerfMember[] {
    return this.serf.list();
  }

  /** Joins through each `host[:port]`; resolves with how many answered (Consul's join count). */
  async join(addresses: string[], defaultPort: number): Promise<number> {
    const targets: Address[] = addresses.map((address) => {
      const { host, port } = splitHostPort(address, defaultPort);
      return { name: '', addr: ipToBytes(host), port };
    });
    const ids = this.core.join(targets, Date.now());
    const answered = ids.map((id) => new Promise<boolean>((resolve) => this.joins.set(id, resolve)));
    this.flush();
    const joined = (await Promise.all(answered)).filter(Boolean).length;
    if (joined > 0) {
      this.serf.announceJoin();
      this.flush();
    }
    return joined;
  }

  userEvent(name: string, payload: Uint8Array, coalesce: boolean): number {
    const ltime = this.serf.userEvent(name, payload, coalesce);
    this.flush();
    return ltime;
  }

  forceLeave(name: string, prune: boolean): boolean {
    const done = this.serf.forceLeave(name, prune, Date.now());
    this.flush();
    return done;
  }

  setTags(tags: Record<string, string>): void {
    this.core.updateNode(this.serf.setTags(tags), Date.now());
    this.flush();
  }

  /** A graceful leave: serf's leave intent, then memberlist's, each given time to spread, then stop. */
  async leave(): Promise<void> {
    this.serf.announceLeave();
    this.flush();
    await this.until(() => this.serf.pendingBroadcasts() === 0, BROADCAST_TIMEOUT_MS);
    const anyone = this.core.leave(Date.now());
    if (anyone) {
      await new Promise<void>((resolve) => {
        this.leaveSent = resolve;
        this.flush();
        setTimeout(resolve, BROADCAST_TIMEOUT_MS).unref();
      });
    }
    await this.stop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Never started (the agent failed before gossip came up): nothing is bound.
    const tcp = this.tcp;
    if (!tcp) return;
    clearTimeout(this.timer);
    clearInterval(this.reaper);
    for (const socket of this.sockets) socket.destroy();
    for (const resolve of this.joins.values()) resolve(false);
    this.joins.clear();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }

  // --- moving bytes ---

  private receivePacket(packet: Buffer, address: string, port: number): void {
    if (this.stopped) return;
    try {
      const decoded = decodePacket(packet, { keyring: this.options.keyring });
      this.core.handlePacket({ addr: ipToBytes(address), port }, decoded.messages, Date.now());
    } catch (err) {
      this.options.logger.debug({ err, from: `${address}:${port}` }, 'gossip: dropped a packet');
      return;
    }
    this.flush();
  }

  private async accept(socket: Socket): Promise<void> {
    this.track(socket);
    try {
      const { message } = await readStreamMessage(socket, {
        keyring: this.options.keyring,
        timeoutMs: STREAM_TIMEOUT_MS,
      });
      const now = Date.now();
      if (message.type === 'pushPull') {
        const { reply, error } = this.core.handlePushPullRequest(message.body, now);
        const answer = error
          ? { type: 'err' as const, body: { Error: error } }
          : { type: 'pushPull' as const, body: reply };
        socket.end(this.streamBytes(answer));
      } else if (message.type === 'ping') {
        const ack = this.core.handleStreamPing(message.body);
        if (ack) socket.end(this.streamBytes({ type: 'ackResp', body: ack }));
        else socket.end();
      } else if (message.type === 'user') {
        this.serf.handle({ type: 'user', body: message.body }, now);
        socket.end();
      } else {
        socket.end();
      }
    } catch (err) {
      this.options.logger.debug({ err, from: socket.remoteAddress }, 'gossip: dropped a stream');
      socket.destroy();
    }
    this.flush();
  }

  private async runStream(request: StreamRequest): Promise<void> {
    const socket = connect({ host: bytesToIp(request.to.addr), port: request.to.port });
    this.track(socket);
    socket.setTimeout(Math.max(1, request.deadline - Date.now()), () => socket.destroy(new Error('timeout')));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      if (request.kind === 'pushPull') {
        socket.write(this.streamBytes({ type: 'pushPull', body: request.state }));
        const { message } = await readStreamMessage(socket, {
          keyring: this.options.keyring,
          timeoutMs: STREAM_TIMEOUT_MS,
        });
        if (message.type !== 'pushPull') throw new Error(`push/pull answered with ${message.type}`);
        const problem = this.core.handlePushPullResponse(request.id, message.body, Date.now());
        if (problem) this.options.logger.warn({ problem }, 'gossip: push/pull refused');
        this.joins.get(request.id)?.(problem === null);
      } else {
        socket.write(this.streamBytes({ type: 'ping', body: request.ping }));
        const { message } = await readStreamMessage(socket, {
          keyring: this.options.keyring,
          timeoutMs: STREAM_TIMEOUT_MS,
        });
        this.core.handleStreamPingResult(request.id, message.type === 'ackResp');
      }
    } catch (err) {
      this.options.logger.debug(
        { err, to: `${bytesToIp(request.to.addr)}:${request.to.port}` },
        'gossip: stream failed',
      );
      this.core.streamFailed(request.id);
      this.joins.get(request.id)?.(false);
    } finally {
      this.joins.delete(request.id);
      socket.destroy();
    }
    this.flush();
  }

  private streamBytes(message: Parameters<typeof encodeStream>[0]): Uint8Array {
    return encodeStream(message, { compress: true, keyring: this.options.keyring });
  }

  private sendPacket(packet: OutPacket): void {
    const bytes = encodePacket(packet.messages.map(encodeMessage), {
      compress: true,
      crc: packet.crc,
      keyring: this.options.keyring,
    });
    this.udp.send(bytes, packet.to.port, bytesToIp(packet.to.addr), (err) => {
      if (err) this.options.logger.debug({ err }, 'gossip: send failed');
    });
  }

  /** Carries out what the core produced, hands events to serf and listeners, and re-arms the timer. */
  private flush(): void {
    if (this.stopped) return;
    const now = Date.now();
    this.core.tick(now);
    const output = this.core.takeOutput();
    for (const event of output.events) this.coreEvent(event, now);
    for (const packet of output.packets) this.sendPacket(packet);
    for (const stream of output.streams) void this.runStream(stream);
    this.deliver();
    for (const check of [...this.waiters]) check();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), Math.max(1, this.core.nextDeadline() - Date.now()));
  }

  private coreEvent(event: GossipEvent, now: number): void {
    if (event.type === 'broadcastFinished' && event.tag === 'leave') this.leaveSent?.();
    this.serf.handle(event, now);
  }

  private deliver(): void {
    for (const event of this.serf.takeEvents()) {
      for (const listener of this.listeners) listener(event);
    }
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  /** Resolves once `condition` holds after a flush, or after `timeoutMs`. */
  private until(condition: () => boolean, timeoutMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const check = () => {
        if (condition()) done();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.waiters.add(check);
    });
  }
}
