import type { GossipConfig } from '../../../src/gossip/core/config.ts';
import { GossipCore } from '../../../src/gossip/core/core.ts';
import type { Address, GossipEvent, OutPacket, StreamRequest } from '../../../src/gossip/core/types.ts';
import {
  DEFAULT_VSN,
  NodeStateCode,
  type PushNodeState,
  type PushPull,
} from '../../../src/gossip/messages.ts';
import { type Random, seededRandom } from '../../../src/raft/core/prng.ts';
import { EventQueue } from '../event-queue.ts';

// Many GossipCores on simulated time: UDP packets are lost and delayed per packet; streams (push/pull and
// TCP pings) model TCP over the same lossy links, each lost segment costing a retransmission timeout. A node
// that is down neither ticks, nor receives, nor answers; its streams time out.

export interface NetworkModel {
  /** Probability that a UDP packet is lost. */
  loss: number;
  /** One-way latency range, ms. */
  minDelayMs: number;
  maxDelayMs: number;
}

export const lanNetwork: NetworkModel = { loss: 0, minDelayMs: 0.5, maxDelayMs: 2 };

export interface SimOptions {
  seed: number;
  network?: NetworkModel;
  config?: Partial<GossipConfig>;
}

export interface SimNode {
  index: number;
  name: string;
  address: Address;
  core: GossipCore;
  up: boolean;
  /** The earliest wake-up already scheduled for this node. */
  wakeAt: number;
}

export interface SimStats {
  packets: number;
  lost: number;
  messages: number;
  streams: number;
  streamsFailed: number;
}

/** TCP's initial SYN retransmission timeout, then the minimum data RTO on Linux. */
const SYN_RTO_MS = 1000;
const DATA_RTO_MS = 200;

const addressKey = (addr: Uint8Array, port: number) => `${addr.join('.')}:${port}`;

export class GossipSimulation {
  readonly queue = new EventQueue();
  readonly random: Random;
  readonly nodes: SimNode[] = [];
  network: NetworkModel;
  readonly stats: SimStats = { packets: 0, lost: 0, messages: 0, streams: 0, streamsFailed: 0 };
  /** Called with every event any node's core produces. */
  onEvent: (node: SimNode, event: GossipEvent, now: number) => void = () => {};

  private readonly byAddress = new Map<string, SimNode>();
  private readonly config: Partial<GossipConfig>;

  constructor(options: SimOptions) {
    this.random = seededRandom(options.seed);
    this.network = options.network ?? lanNetwork;
    this.config = options.config ?? {};
  }

  get now(): number {
    return this.queue.now;
  }

  /** A new node, alone until it joins or is given the cluster's state. */
  addNode(): SimNode {
    const index = this.nodes.length;
    const addr = new Uint8Array([10, (index >> 16) & 255, (index >> 8) & 255, index & 255]);
    const name = `node-${index}`;
    const core = new GossipCore({
      name,
      addr,
      port: 7946,
      config: this.config,
      random: seededRandom(Math.floor(this.random.float() * 2 ** 32)),
      now: this.now,
    });
    const node: SimNode = {
      index,
      name,
      address: { name, addr, port: 7946 },
      core,
      up: true,
      wakeAt: Infinity,
    };
    this.nodes.push(node);
    this.byAddress.set(addressKey(addr, 7946), node);
    this.flush(node);
    return node;
  }

  /**
   * `count` nodes that already know each other alive (as if they had converged long ago): each merges the
   * full member list, then drops the broadcasts that merge queued.
   */
  addConvergedCluster(count: number): SimNode[] {
    const added: SimNode[] = [];
    for (let i = 0; i < count; i++) added.push(this.addNode());
    const everyone: PushNodeState[] = added.map((node) => ({
      Name: node.name,
      Addr: node.address.addr,
      Port: node.address.port,
      Meta: new Uint8Array(0),
      Incarnation: 1,
      State: NodeStateCode.alive,
      Vsn: DEFAULT_VSN,
    }));
    const state: PushPull = { join: false, nodes: everyone, userState: new Uint8Array(0) };
    for (const node of added) {
      node.core.handlePushPullRequest(state, this.now);
      node.core.broadcasts.reset();
      node.core.takeOutput();
      this.reschedule(node);
    }
    return added;
  }

  /** The node stops answering, ticking and sending (a crash or a host gone). */
  crash(node: SimNode): void {
    node.up = false;
  }

  runFor(ms: number, stop: () => boolean = () => false): boolean {
    return this.queue.runUntil(this.now + ms, stop);
  }

  /** Hands a node's output to the network and the observers, then makes sure it wakes when due. */
  flush(node: SimNode): void {
    const out = node.core.takeOutput();
    for (const event of out.events) this.onEvent(node, event, this.now);
    if (node.up) {
      for (const packet of out.packets) this.sendPacket(node, packet);
      for (const stream of out.streams) this.startStream(node, stream);
    }
    this.reschedule(node);
  }

  private reschedule(node: SimNode): void {
    if (!node.up) return;
    const due = node.core.nextDeadline();
    if (due >= node.wakeAt || due === Infinity) return;
    node.wakeAt = due;
    this.queue.schedule(due - this.now, () => {
      if (!node.up || node.wakeAt !== due) return;
      node.wakeAt = Infinity;
      node.core.tick(Math.max(this.now, due));
      this.flush(node);
    });
  }

  private delay(): number {
    const { minDelayMs, maxDelayMs } = this.network;
    return minDelayMs + this.random.float() * (maxDelayMs - minDelayMs);
  }

  private sendPacket(from: SimNode, packet: OutPacket): void {
    this.stats.packets++;
    this.stats.messages += packet.messages.length;
    if (this.random.float() < this.network.loss) {
      this.stats.lost++;
      return;
    }
    const to = this.byAddress.get(addressKey(packet.to.addr, packet.to.port));
    if (to === undefined) return;
    const source = { addr: from.address.addr, port: from.address.port };
    this.queue.schedule(this.delay(), () => {
      if (!to.up) return;
      to.core.handlePacket(source, packet.messages, this.now);
      this.flush(to);
    });
  }

  /** One stream leg: latency plus a retransmission timeout (doubling) per lost segment. */
  private legTime(first: boolean): number {
    let time = this.delay();
    let rto = first ? SYN_RTO_MS : DATA_RTO_MS;
    for (let i = 0; i < 8 && this.random.float() < this.network.loss; i++) {
      time += rto;
      rto *= 2;
    }
    return time;
  }

  private startStream(from: SimNode, request: StreamRequest): void {
    this.stats.streams++;
    const to = this.byAddress.get(addressKey(request.to.addr, request.to.port));
    const fail = () => {
      this.stats.streamsFailed++;
      this.queue.schedule(request.deadline - this.now, () => {
        if (!from.up) return;
        from.core.streamFailed(request.id);
        this.flush(from);
      });
    };
    // Connect (SYN/SYN-ACK, then the request), and the answer.
    const there = this.legTime(true) + this.legTime(false);
    const back = this.legTime(false);
    if (to === undefined || this.now + there + back > request.deadline) {
      fail();
      return;
    }
    this.queue.schedule(there, () => {
      if (!to.up) {
        fail();
        return;
      }
      if (request.kind === 'pushPull') {
        const { reply } = to.core.handlePushPullRequest(request.state, this.now);
        this.flush(to);
        this.queue.schedule(back, () => {
          if (!from.up) return;
          from.core.handlePushPullResponse(request.id, reply, this.now);
          this.flush(from);
        });
      } else {
        const ack = to.core.handleStreamPing(request.ping);
        this.queue.schedule(back, () => {
          if (!from.up) return;
          from.core.handleStreamPingResult(request.id, ack !== null);
          this.flush(from);
        });
      }
    });
  }
}
