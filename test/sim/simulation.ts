import { Decoder, Encoder } from '@msgpack/msgpack';
import { bootstrapEntry } from '../../src/raft/core/membership.ts';
import type { Message } from '../../src/raft/core/messages.ts';
import { type Random, seededRandom } from '../../src/raft/core/prng.ts';
import type { NodeId } from '../../src/raft/core/types.ts';
import { Client, type ClientHost, performOperation, type WorkloadOptions } from './clients.ts';
import { EventQueue } from './event-queue.ts';
import type { ClientReply, ClientRequest, HistoryEntry } from './history.ts';
import { Invariants } from './invariants.ts';
import { calmNetwork, Network } from './network.ts';
import { type ServerHost, type ServerSettings, SimServer } from './server.ts';

export interface SimulationConfig {
  seed: number;
  /** Servers n1..nV bootstrap the cluster as its voters. */
  voters: number;
  /** Further servers that start outside the cluster, to be added later. */
  spares: number;
  settings: ServerSettings;
  clients: number;
  workload: WorkloadOptions;
}

export const defaultSettings: ServerSettings = {
  raft: {},
  tickMs: 10,
  clockDrift: 0.02,
  syncMs: [0.2, 2],
  snapshotEvery: 1000,
  keepTrailing: 5,
};

export const defaultWorkload: WorkloadOptions = { keys: ['a', 'b', 'c'], timeoutMs: 400, thinkMs: 20 };

/** What travels between servers: the message as the transport would encode it. */
interface Packet {
  from: NodeId;
  to: NodeId;
  bytes: Uint8Array;
  /** The snapshot data streamed alongside an install-snapshot. */
  snapshotData: Uint8Array | null;
}

/** How long a client request or reply takes to travel, in ms. */
const clientLatency = (random: Random) => 0.5 + random.float() * 1.5;
/** How long the sender's driver takes to notice that a snapshot stream failed. */
const snapshotStreamTimeoutMs = 50;
const encoder = new Encoder();
const decoder = new Decoder();

/** A whole deterministic world: servers, network, clock, clients, and the invariants watching them. */
export class Simulation implements ServerHost, ClientHost {
  readonly queue = new EventQueue();
  readonly random: Random;
  readonly invariants = new Invariants();
  readonly settings: ServerSettings;
  readonly network: Network<Packet>;
  readonly servers = new Map<NodeId, SimServer>();
  readonly history: HistoryEntry[] = [];
  readonly clients: Client[] = [];
  readonly counts = new Map<string, number>();

  constructor(config: SimulationConfig) {
    this.random = seededRandom(config.seed);
    this.settings = config.settings;
    this.network = new Network<Packet>(
      this.queue,
      this.random,
      (packet) => this.deliver(packet),
      (packet) => this.lost(packet),
    );
    const ids = Array.from({ length: config.voters + config.spares }, (_, i) => `n${i + 1}`);
    const voters = ids.slice(0, config.voters);
    for (const id of ids) {
      const server = new SimServer(id, this);
      if (voters.includes(id))
        server.disk.format([bootstrapEntry(voters)], { term: 1, vote: null, commit: 1 });
      this.servers.set(id, server);
    }
    for (const server of this.servers.values()) server.start();
    for (let i = 0; i < config.clients; i++) {
      this.clients.push(
        new Client(i, this, seededRandom(this.random.int(2 ** 32)), config.workload, this.history),
      );
    }
  }

  server(id: NodeId): SimServer {
    const server = this.servers.get(id);
    if (!server) throw new Error(`no server ${id}`);
    return server;
  }

  /** The up server that leads the highest term, if any. */
  leader(): SimServer | null {
    let best: SimServer | null = null;
    let bestTerm = -1;
    for (const server of this.servers.values()) {
      const raft = server.raft;
      if (raft?.role === 'leader' && raft.term > bestTerm) {
        best = server;
        bestTerm = raft.term;
      }
    }
    return best;
  }

  run(ms: number): void {
    this.queue.runUntil(this.queue.now + ms);
  }

  /** Runs until `done` holds (checked every simulated `everyMs`) or `ms` pass; returns whether it held. */
  runUntil(done: () => boolean, ms: number, everyMs = 1): boolean {
    const end = this.queue.now + ms;
    while (!done()) {
      if (this.queue.now >= end) return false;
      this.queue.runUntil(Math.min(end, this.queue.now + everyMs));
    }
    return true;
  }

  crash(id: NodeId): void {
    this.server(id).crash();
  }

  restart(id: NodeId): void {
    const server = this.server(id);
    if (!server.up) server.start();
  }

  healAll(): void {
    this.network.heal();
    this.network.faults = calmNetwork;
    for (const server of this.servers.values()) if (!server.up) server.start();
  }

  startClients(): void {
    for (const client of this.clients) client.start();
  }

  stopClients(): void {
    for (const client of this.clients) client.stop();
  }

  /**
   * A scripted client operation, recorded in the history like the random clients' (as client `client`);
   * `settled` gets the answer, or null if none came within `timeoutMs`.
   */
  perform(
    client: number,
    target: NodeId,
    request: ClientRequest,
    settled: (answer: ClientReply | null) => void = () => {},
    timeoutMs = 400,
  ): void {
    performOperation(this, this.history, client, target, request, timeoutMs, settled);
  }

  /** Closes the history: operations still in flight get unknown outcomes. */
  abandonClients(): void {
    for (const client of this.clients) client.abandon();
  }

  // ServerHost

  send(message: Message, snapshotData: Uint8Array | null): void {
    this.count('messages');
    this.network.send({ from: message.from, to: message.to, bytes: encoder.encode(message), snapshotData });
  }

  count(event: string): void {
    this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
  }

  // ClientHost

  serverIds(): NodeId[] {
    return [...this.servers.keys()];
  }

  request(to: NodeId, request: ClientRequest, reply: (answer: ClientReply) => void): void {
    const server = this.server(to);
    this.queue.schedule(clientLatency(this.random), () =>
      server.request(request, (answer) =>
        this.queue.schedule(clientLatency(this.random), () => reply(answer)),
      ),
    );
  }

  private deliver(packet: Packet): void {
    const server = this.server(packet.to);
    if (!server.up) {
      this.lost(packet);
      return;
    }
    // Decoding each delivery gives every copy its own objects, as a real transport would.
    const message = decoder.decode(packet.bytes) as Message;
    server.receive(message, packet.snapshotData);
    if (message.type === 'install-snapshot') {
      this.queue.schedule(clientLatency(this.random), () =>
        this.server(packet.from).reportSnapshot(packet.to, true),
      );
    }
  }

  private lost(packet: Packet): void {
    if (packet.snapshotData === null) return;
    this.queue.schedule(snapshotStreamTimeoutMs, () =>
      this.server(packet.from).reportSnapshot(packet.to, false),
    );
  }
}
