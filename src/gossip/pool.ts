import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { seededRandom } from '../raft/core/prng.ts';
import { bytesToIp, ipToBytes, splitHostPort } from './address.ts';
import { type GossipConfig, resolveConfig } from './core/config.ts';
import { GossipCore } from './core/core.ts';
import type { Address, GossipEvent, OutPacket, StreamRequest } from './core/types.ts';
import { KeyManager, type KeyOperation, type KeyOperationResult } from './serf/key-manager.ts';
import { writeKeyringFile } from './serf/keyring-file.ts';
import type { IncomingQuery, QueryParams, QueryResult } from './serf/query.ts';
import { type DirectMessage, Serf } from './serf/serf.ts';
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
  /** Where the keyring is kept (Consul's serf/local.keyring), rewritten after each key query changes it. */
  keyringFile?: string;
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
  /** Ends each query still collecting answers (at its deadline, or when the pool stops). */
  private readonly openQueries = new Set<() => void>();
  private keyManager: KeyManager | undefined;

  constructor(private readonly options: GossipPoolOptions) {}

  /** The port actually bound (the configured one may be 0). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { bindAddr, bindPort } = this.options;
    const tcp = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', (err) => reject(new Error(`gossip: cannot listen on TCP: ${err.message}`)));
      tcp.listen({ host: bindAddr, port: bindPort }, () => resolve());
    });
    this.boundPort = (tcp.address() as { port: number }).port;
    const udp = createSocket(isIPv6(bindAddr) ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', (err) => reject(new Error(`gossip: cannot bind UDP: ${err.message}`)));
        udp.bind({ address: bindAddr, port: this.boundPort }, () => resolve());
      });
    } catch (err) {
      tcp.close();
      throw err;
    }
    // Only now is the pool running: stop() after a failed start has nothing to close.
    this.tcp = tcp;
    this.udp = udp;
    this.udp.on('message', (packet, from) => this.receivePacket(packet, from.address, from.port));
    this.udp.on('error', (err) => this.options.logger.warn({ err }, 'gossip: UDP socket error'));
    tcp.on('error', (err) => this.options.logger.warn({ err }, 'gossip: TCP listener error'));

    const now = Date.now();
    const { keyring, keyringFile } = this.options;
    this.serf = new Serf({
      name: this.options.name,
      tags: this.options.tags,
      numNodes: () => this.core.estNumNodes(),
      config: this.options.serf,
      gossipIntervalMs: resolveConfig(this.options.config).gossipIntervalMs,
      numMembers: () => this.core.numMembers(),
      localAddress: () => {
        const self = this.core.localMember();
        return { addr: self.addr, port: self.port };
      },
      ...(keyring ? { keyring } : {}),
      ...(keyring && keyringFile
        ? { persistKeyring: () => writeKeyringFile(keyringFile, keyring.keys) }
        : {}),
      log: (level, message) => this.options.logger[level](message),
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
      this.sendDirect();
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

  /** Members memberlist counts alive, this node included (memberlist's NumMembers). */
  numMembers(): number {
    return this.core.numMembers();
  }

  /** serf's default query timeout for the pool as it is now. */
  defaultQueryTimeoutMs(): number {
    return this.serf.defaultQueryTimeoutMs();
  }

  /**
   * Runs a serf query across the pool and resolves with the acks and answers gathered by its deadline, or as
   * soon as `enough` says the answers so far suffice. Rejects when the query cannot be sent (too large).
   */
  async query(
    name: string,
    payload: Uint8Array,
    params: QueryParams = {},
    enough?: (result: QueryResult) => boolean,
  ): Promise<QueryResult> {
    if (this.stopped || !this.tcp) throw new Error('the gossip pool is not running');
    const running = this.serf.query(name, payload, params, Date.now());
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.openQueries.delete(finish);
        running.listener = undefined;
        this.serf.closeQuery(running);
        resolve(running.result());
      };
      const timer = setTimeout(finish, Math.max(0, running.deadline - Date.now()));
      this.openQueries.add(finish);
      const check = () => {
        if (enough?.({ acks: running.acks, responses: running.responses })) finish();
      };
      running.listener = check;
      check(); // this node's own answer came in while the query started
      this.flush();
    });
  }

  /** Queries other than serf's own, for the application to answer (each answer is sent at once). */
  onQuery(listener: (query: IncomingQuery) => void): () => void {
    return this.serf.onQuery((query) =>
      listener({
        ...query,
        respond: (payload, now = Date.now()) => {
          query.respond(payload, now);
          this.sendDirect();
        },
      }),
    );
  }

  /** serf's KeyManager over this pool: install, use, remove or list gossip keys on every member. */
  keyOperation(
    op: KeyOperation,
    key: string,
    options: { relayFactor?: number } = {},
  ): Promise<KeyOperationResult> {
    this.keyManager ??= new KeyManager(this);
    return this.keyManager.run(op, key, options);
  }

  /** Whether gossip is encrypted (the pool has a keyring). */
  get encrypted(): boolean {
    return this.options.keyring !== undefined;
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
    for (const finish of [...this.openQueries]) finish();
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
    this.sendDirect();
    for (const check of [...this.waiters]) check();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), Math.max(1, this.core.nextDeadline() - Date.now()));
  }

  /** serf's messages for one address (query acks, answers, relays), each as a memberlist user message. */
  private sendDirect(): void {
    if (this.stopped) return;
    for (const direct of this.serf.takeDirect()) this.sendUserMessage(direct);
  }

  private sendUserMessage({ addr, port, message }: DirectMessage): void {
    try {
      const bytes = encodePacket([encodeMessage({ type: 'user', body: message })], {
        compress: true,
        keyring: this.options.keyring,
      });
      this.udp.send(bytes, port, bytesToIp(addr), (err) => {
        if (err) this.options.logger.debug({ err }, 'gossip: sending a query answer failed');
      });
    } catch (err) {
      this.options.logger.debug({ err, port }, 'gossip: dropped a query answer');
    }
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
