import type { Random } from '../../raft/core/prng.ts';
import {
  type AckResp,
  type Alive,
  DEFAULT_VSN,
  type Dead,
  type GossipMessage,
  type IndirectPing,
  type NackResp,
  NodeStateCode,
  type Ping,
  type PushNodeState,
  type PushPull,
  type Suspect,
  type Vsn,
} from '../messages.ts';
import { Awareness } from './awareness.ts';
import { type GossipConfig, resolveConfig } from './config.ts';
import { TransmitLimitedQueue } from './queue.ts';
import { estimateSize } from './size.ts';
import { Suspicion } from './suspicion.ts';
import { pushPullScale, suspicionTimeout } from './timing.ts';
import type { Address, GossipDelegate, Member, NodeState, OutPacket, Output } from './types.ts';

/** memberlist's assumed bytes for the compound header, and per message inside it. */
export const COMPOUND_HEADER_OVERHEAD = 2;
export const COMPOUND_OVERHEAD = 2;
/** The user message type byte memberlist adds in front of each delegate broadcast. */
export const USER_MSG_OVERHEAD = 1;

export interface GossipCoreOptions {
  /** This node's name, unique in the cluster. */
  name: string;
  /** The address and port others reach this node at (advertised). */
  addr: Uint8Array;
  port: number;
  /** Node meta (serf: 0xFF + msgpack tags), at most 512 bytes. */
  meta?: Uint8Array;
  /** Protocol versions advertised; serf's by default. */
  vsn?: Vsn;
  /** Overrides on memberlist's LAN defaults (spread `defaultWANConfig` first for a WAN pool). */
  config?: Partial<GossipConfig>;
  /** The only randomness used: member selection, shuffles and the start-up stagger of the timers. */
  random: Random;
  /** The caller's clock at creation, in ms; every later input carries the time too. */
  now: number;
  delegate?: GossipDelegate;
  /** Encoded size of a message; the built-in estimate follows go-msgpack's encoding. */
  sizeOf?: (message: GossipMessage) => number;
}

/** A row of the member table; Member is its copy for the outside. */
type NodeRecord = Member;

/** The probe under way: a direct ping, then indirect pings (and a stream ping), then a verdict. */
interface Probe {
  target: NodeRecord;
  seq: number;
  sentAt: number;
  /** When the direct ping is given up (probe timeout, unscaled). */
  indirectAt: number;
  indirectSent: boolean;
  /** When the probe is over (the awareness-scaled probe interval). */
  endAt: number;
  expectedNacks: number;
  nacks: number;
  /** The stream ping's id and outcome, when one was asked for. */
  streamPing: { id: number; acked: boolean } | null;
}

/** An indirect probe this node runs for another: forward the ack, or nack at the deadline. */
interface Relay {
  requester: Address;
  requesterSeq: number;
  nack: boolean;
  deadline: number;
}

type PendingStream = { kind: 'pushPull'; join: boolean } | { kind: 'ping'; probeSeq: number };

const EMPTY = new Uint8Array(0);

const bytesEqual = (a: Uint8Array, b: Uint8Array) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

const snapshot = (node: NodeRecord): Member => ({
  name: node.name,
  addr: node.addr,
  port: node.port,
  meta: node.meta,
  incarnation: node.incarnation,
  state: node.state,
  stateChange: node.stateChange,
  vsn: node.vsn,
});

const addressOf = (node: NodeRecord): Address => ({ name: node.name, addr: node.addr, port: node.port });
const deadOrLeft = (node: NodeRecord) => node.state === 'dead' || node.state === 'left';
const stateName: Record<number, NodeState | undefined> = { 0: 'alive', 1: 'suspect', 2: 'dead', 3: 'left' };

/** The first tick of a ticker with phase `at` and period `interval` strictly after `now`. */
const nextPhase = (at: number, interval: number, now: number) =>
  at > now ? at : at + interval * (Math.floor((now - at) / interval) + 1);

/**
 * A deterministic SWIM + Lifeguard membership core with hashicorp/memberlist's semantics: no I/O, no timers,
 * no clock, no ambient randomness. Inputs are method calls carrying the current time in ms; outputs are
 * plain data collected until `takeOutput()`. Call `tick(now)` whenever `nextDeadline()` comes due.
 */
export class GossipCore {
  readonly config: GossipConfig;
  readonly name: string;
  /** memberlist's own broadcasts (alive/suspect/dead), exposed for tests and diagnostics. */
  readonly broadcasts: TransmitLimitedQueue<GossipMessage>;

  private readonly random: Random;
  private readonly delegate: GossipDelegate;
  private readonly sizeOf: (message: GossipMessage) => number;
  private readonly awareness: Awareness;

  /** Probe order; includes this node and the recently dead. */
  private nodes: NodeRecord[] = [];
  private readonly nodeMap = new Map<string, NodeRecord>();
  private probeIndex = 0;
  private readonly suspicions = new Map<string, Suspicion>();

  private seqNo = 0;
  private incarnation = 0;
  private leaving = false;

  private probe: Probe | null = null;
  /** The probe ticker's next tick, and a tick that came while a probe was under way (it runs at once). */
  private probeTickAt: number;
  private probeBufferedAt: number | null = null;
  private readonly relays = new Map<number, Relay>();
  private nextGossipAt: number;
  private nextPushPullAt: number;
  private streamId = 0;
  private readonly pendingStreams = new Map<number, PendingStream>();

  private out: Output = { packets: [], streams: [], events: [] };

  constructor(options: GossipCoreOptions) {
    this.config = resolveConfig(options.config);
    this.name = options.name;
    this.random = options.random;
    this.delegate = options.delegate ?? {};
    this.sizeOf = options.sizeOf ?? estimateSize;
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.broadcasts = new TransmitLimitedQueue(this.config.retransmitMult, () => this.estNumNodes());

    const meta = options.meta ?? EMPTY;
    if (meta.length > 512) throw new Error('node meta is longer than 512 bytes');
    // memberlist's setAlive: our own alive message, incarnation 1, handled as bootstrap.
    this.incarnation = 1;
    this.aliveNode(
      {
        Incarnation: 1,
        Node: this.name,
        Addr: options.addr,
        Port: options.port,
        Meta: meta,
        Vsn: options.vsn ?? DEFAULT_VSN,
      },
      options.now,
      true,
    );

    // Nodes start at different moments in a real cluster: each ticker gets a random phase.
    const { probeIntervalMs, gossipIntervalMs, gossipNodes, pushPullIntervalMs } = this.config;
    const now = options.now;
    this.probeTickAt = now + this.random.float() * probeIntervalMs;
    this.nextGossipAt =
      gossipIntervalMs > 0 && gossipNodes > 0 ? now + this.random.float() * gossipIntervalMs : Infinity;
    this.nextPushPullAt = pushPullIntervalMs > 0 ? now + this.random.float() * pushPullIntervalMs : Infinity;
  }

  // ---------------------------------------------------------------- reading

  /** Members not dead or left, this node included. */
  members(): Member[] {
    return this.nodes.filter((node) => !deadOrLeft(node)).map(snapshot);
  }

  /** Every row of the member table, recently dead and left members included. */
  allMembers(): Member[] {
    return this.nodes.map(snapshot);
  }

  member(name: string): Member | undefined {
    const node = this.nodeMap.get(name);
    return node && snapshot(node);
  }

  localMember(): Member {
    return snapshot(this.nodeMap.get(this.name)!);
  }

  numMembers(): number {
    let alive = 0;
    for (const node of this.nodes) if (!deadOrLeft(node)) alive++;
    return alive;
  }

  /** The table's size, dead members not yet reaped included: what timeouts and limits scale with. */
  estNumNodes(): number {
    return this.nodes.length;
  }

  /** Lifeguard's health score: 0 is healthy. */
  healthScore(): number {
    return this.awareness.healthScore;
  }

  /** Deadline of the suspicion timer running for `name`, if any. */
  suspicionDeadline(name: string): number | undefined {
    return this.suspicions.get(name)?.deadline;
  }

  hasOutput(): boolean {
    return this.out.packets.length + this.out.streams.length + this.out.events.length > 0;
  }

  /** Hands over (and forgets) every packet, stream request and event produced so far. */
  takeOutput(): Output {
    const out = this.out;
    this.out = { packets: [], streams: [], events: [] };
    return out;
  }

  /** The earliest time `tick` has work to do (Infinity when nothing is scheduled). */
  nextDeadline(): number {
    let next = Math.min(this.nextGossipAt, this.nextPushPullAt);
    const probe = this.probe;
    if (probe === null) next = Math.min(next, this.probeBufferedAt ?? this.probeTickAt);
    else next = Math.min(next, probe.indirectSent ? probe.endAt : probe.indirectAt);
    for (const relay of this.relays.values()) next = Math.min(next, relay.deadline);
    for (const suspicion of this.suspicions.values()) next = Math.min(next, suspicion.deadline);
    return next;
  }

  // ---------------------------------------------------------------- time

  /** Runs everything due by `now`, earliest first. */
  tick(now: number): void {
    for (;;) {
      const due = this.earliestDue();
      if (due === null || due.at > now) return;
      due.run(now, due.at);
    }
  }

  private earliestDue(): { at: number; run: (now: number, at: number) => void } | null {
    let best: { at: number; run: (now: number, at: number) => void } | null = null;
    const consider = (at: number, run: (now: number, at: number) => void) => {
      if (at !== Infinity && (best === null || at < best.at)) best = { at, run };
    };
    const probe = this.probe;
    if (probe === null) {
      if (this.probeBufferedAt !== null) {
        consider(this.probeBufferedAt, (now) => {
          this.probeBufferedAt = null;
          this.startProbe(now);
        });
      } else {
        consider(this.probeTickAt, (now, at) => {
          this.probeTickAt = nextPhase(at, this.config.probeIntervalMs, now);
          this.startProbe(now);
        });
      }
    } else if (!probe.indirectSent) {
      consider(probe.indirectAt, () => this.probeIndirectly(probe));
    } else {
      consider(probe.endAt, (now) => this.probeTimedOut(probe, now));
    }
    consider(this.nextGossipAt, (now, at) => {
      this.nextGossipAt = nextPhase(at, this.config.gossipIntervalMs, now);
      this.gossip(now);
    });
    consider(this.nextPushPullAt, (now) => {
      this.nextPushPullAt = now + pushPullScale(this.config.pushPullIntervalMs, this.estNumNodes());
      this.pushPull(now);
    });
    for (const [seq, relay] of this.relays) {
      consider(relay.deadline, () => {
        this.relays.delete(seq);
        if (relay.nack)
          this.sendMsg(relay.requester, { type: 'nackResp', body: { SeqNo: relay.requesterSeq } });
      });
    }
    for (const [name, suspicion] of this.suspicions) {
      consider(suspicion.deadline, (now) => this.suspicionExpired(name, suspicion, now));
    }
    return best;
  }

  // ---------------------------------------------------------------- inputs from the network

  /** A UDP packet's messages (a compound message already split), from `from` (the packet's source). */
  handlePacket(from: { addr: Uint8Array; port: number }, messages: GossipMessage[], now: number): void {
    for (const message of messages) {
      switch (message.type) {
        case 'ping':
          this.handlePing(from, message.body);
          break;
        case 'indirectPing':
          this.handleIndirectPing(from, message.body, now);
          break;
        case 'ackResp':
          this.handleAck(message.body, now);
          break;
        case 'nackResp':
          this.handleNack(message.body);
          break;
        case 'suspect':
          this.suspectNode(message.body, now);
          break;
        case 'alive':
          this.aliveNode(message.body, now, false);
          break;
        case 'dead':
          this.deadNode(message.body, now);
          break;
        case 'user':
          this.out.events.push({ type: 'user', body: message.body });
          break;
        case 'err':
          break;
      }
    }
  }

  /** A ping that arrived over a stream: the ack to write back, or null when it is meant for another node. */
  handleStreamPing(ping: Ping): AckResp | null {
    if (ping.Node !== '' && ping.Node !== this.name) return null;
    return { SeqNo: ping.SeqNo, Payload: EMPTY };
  }

  /** A push/pull a peer started: returns our state to write back (taken before merging theirs), then merges. */
  handlePushPullRequest(remote: PushPull, now: number): { reply: PushPull; error: string | null } {
    const reply = this.localState(remote.join);
    return { reply, error: this.mergeRemoteState(remote, now) };
  }

  /** The peer's answer to a push/pull we asked for (join or anti-entropy): merges it; an error if refused. */
  handlePushPullResponse(id: number, remote: PushPull, now: number): string | null {
    const pending = this.pendingStreams.get(id);
    if (pending?.kind !== 'pushPull') return 'no such push/pull';
    this.pendingStreams.delete(id);
    return this.mergeRemoteState(remote, now);
  }

  /** The result of a stream ping we asked for. */
  handleStreamPingResult(id: number, acked: boolean): void {
    const pending = this.pendingStreams.get(id);
    if (pending?.kind !== 'ping') return;
    this.pendingStreams.delete(id);
    const probe = this.probe;
    if (probe !== null && probe.seq === pending.probeSeq && probe.streamPing?.id === id) {
      probe.streamPing.acked = acked;
    }
  }

  /** A stream request could not be carried out (refused, timed out, broken). */
  streamFailed(id: number): void {
    const pending = this.pendingStreams.get(id);
    if (pending === undefined) return;
    if (pending.kind === 'ping') this.handleStreamPingResult(id, false);
    else this.pendingStreams.delete(id);
  }

  // ---------------------------------------------------------------- commands

  /** Push/pull with Join=true to each address; returns the stream ids (one per address). */
  join(addresses: Address[], now: number): number[] {
    return addresses.map((to) => this.requestPushPull(to, true, now));
  }

  /**
   * Gossips our own death (Node == From, so others mark us left). Returns true when other members are alive
   * to hear it: wait for the `broadcastFinished` event tagged `leave` (or a timeout) before shutting down.
   */
  leave(now: number): boolean {
    if (this.leaving) return false;
    this.leaving = true;
    const self = this.nodeMap.get(this.name)!;
    this.deadNode({ Incarnation: self.incarnation, Node: this.name, From: this.name }, now, 'leave');
    return this.anyAlive();
  }

  /** Re-advertises this node with new meta at a new incarnation; true when there is anyone to wait for. */
  updateNode(meta: Uint8Array, now: number): boolean {
    if (meta.length > 512) throw new Error('node meta is longer than 512 bytes');
    const self = this.nodeMap.get(this.name)!;
    this.incarnation = (this.incarnation + 1) >>> 0;
    this.aliveNode(
      {
        Incarnation: this.incarnation,
        Node: this.name,
        Addr: self.addr,
        Port: self.port,
        Meta: meta,
        Vsn: self.vsn,
      },
      now,
      true,
      'update',
    );
    return this.anyAlive();
  }

  /** True once `leave` has been called. */
  hasLeft(): boolean {
    return this.leaving;
  }

  // ---------------------------------------------------------------- probing

  /** memberlist's probe(): the next live member in the shuffled round-robin, reshuffling at the end. */
  private startProbe(now: number): void {
    let checked = 0;
    for (;;) {
      if (checked >= this.nodes.length) return;
      if (this.probeIndex >= this.nodes.length) {
        this.resetNodes(now);
        this.probeIndex = 0;
        checked++;
        continue;
      }
      const node = this.nodes[this.probeIndex]!;
      this.probeIndex++;
      if (node.name === this.name || deadOrLeft(node)) {
        checked++;
        continue;
      }
      this.probeNode({ ...node }, now);
      return;
    }
  }

  private probeNode(target: NodeRecord, now: number): void {
    const interval = this.awareness.scaleTimeout(this.config.probeIntervalMs);
    const self = this.nodeMap.get(this.name)!;
    const seq = this.nextSeqNo();
    const ping: Ping = {
      SeqNo: seq,
      Node: target.name,
      SourceAddr: self.addr,
      SourcePort: self.port,
      SourceNode: this.name,
    };
    this.probe = {
      target,
      seq,
      sentAt: now,
      indirectAt: now + this.config.probeTimeoutMs,
      indirectSent: false,
      endAt: now + interval,
      expectedNacks: 0,
      nacks: 0,
      streamPing: null,
    };
    if (target.state === 'alive') {
      this.sendMsg(addressOf(target), { type: 'ping', body: ping });
    } else {
      // A suspect gets the accusation along with the ping, so it can refute at once.
      const suspect: Suspect = { Incarnation: target.incarnation, Node: target.name, From: this.name };
      this.out.packets.push({
        to: addressOf(target),
        messages: [
          { type: 'ping', body: ping },
          { type: 'suspect', body: suspect },
        ],
        crc: target.vsn[1] >= 5,
      });
    }
  }

  /** No direct ack within the probe timeout: ask k live members, and try a stream ping. */
  private probeIndirectly(probe: Probe): void {
    probe.indirectSent = true;
    const { target } = probe;
    const self = this.nodeMap.get(this.name)!;
    const peers = this.kRandomNodes(
      this.config.indirectChecks,
      (node) => node.name === this.name || node.name === target.name || node.state !== 'alive',
    );
    for (const peer of peers) {
      // Only members that understand protocol 4 send nacks.
      const nack = peer.vsn[1] >= 4;
      if (nack) probe.expectedNacks++;
      const request: IndirectPing = {
        SeqNo: probe.seq,
        Target: target.addr,
        Port: target.port,
        Node: target.name,
        Nack: nack,
        SourceAddr: self.addr,
        SourcePort: self.port,
        SourceNode: this.name,
      };
      this.sendMsg(addressOf(peer), { type: 'indirectPing', body: request });
    }
    if (!this.config.disableTcpPings && target.vsn[1] >= 3) {
      const id = this.nextStreamId();
      probe.streamPing = { id, acked: false };
      this.pendingStreams.set(id, { kind: 'ping', probeSeq: probe.seq });
      this.out.streams.push({
        kind: 'ping',
        id,
        to: addressOf(target),
        ping: {
          SeqNo: probe.seq,
          Node: target.name,
          SourceAddr: self.addr,
          SourcePort: self.port,
          SourceNode: this.name,
        },
        deadline: probe.endAt,
      });
    }
  }

  /** The probe interval ran out without an ack: a stream ack still saves the member, else suspect it. */
  private probeTimedOut(probe: Probe, now: number): void {
    if (probe.streamPing !== null) this.pendingStreams.delete(probe.streamPing.id);
    if (probe.streamPing?.acked) {
      this.awareness.applyDelta(-1);
      this.endProbe(now);
      return;
    }
    // Lifeguard: members that should have nacked and did not suggest the problem is on our side.
    let delta = 1;
    if (probe.expectedNacks > 0) delta = Math.max(0, probe.expectedNacks - probe.nacks);
    this.awareness.applyDelta(delta);
    this.endProbe(now);
    this.suspectNode(
      { Incarnation: probe.target.incarnation, Node: probe.target.name, From: this.name },
      now,
    );
  }

  private endProbe(now: number): void {
    this.probe = null;
    // A tick that fell while the probe was under way waits in the ticker's one-slot buffer.
    if (this.probeTickAt <= now) {
      this.probeBufferedAt = now;
      this.probeTickAt = nextPhase(this.probeTickAt, this.config.probeIntervalMs, now);
    }
  }

  private handlePing(from: { addr: Uint8Array; port: number }, ping: Ping): void {
    if (ping.Node !== '' && ping.Node !== this.name) return;
    const ack: AckResp = { SeqNo: ping.SeqNo, Payload: this.delegate.ackPayload?.() ?? EMPTY };
    this.sendMsg(this.replyAddress(from, ping.SourceAddr, ping.SourcePort, ping.SourceNode), {
      type: 'ackResp',
      body: ack,
    });
  }

  private handleIndirectPing(
    from: { addr: Uint8Array; port: number },
    request: IndirectPing,
    now: number,
  ): void {
    const self = this.nodeMap.get(this.name)!;
    const seq = this.nextSeqNo();
    this.relays.set(seq, {
      requester: this.replyAddress(from, request.SourceAddr, request.SourcePort, request.SourceNode),
      requesterSeq: request.SeqNo,
      nack: request.Nack,
      deadline: now + this.config.probeTimeoutMs,
    });
    const ping: Ping = {
      SeqNo: seq,
      Node: request.Node,
      SourceAddr: self.addr,
      SourcePort: self.port,
      SourceNode: this.name,
    };
    this.sendMsg(
      { name: request.Node, addr: request.Target, port: request.Port || self.port },
      { type: 'ping', body: ping },
    );
  }

  private handleAck(ack: AckResp, now: number): void {
    const probe = this.probe;
    if (probe !== null && probe.seq === ack.SeqNo) {
      if (probe.streamPing !== null) this.pendingStreams.delete(probe.streamPing.id);
      this.awareness.applyDelta(-1);
      // Only a direct ack within the probe timeout measures a round trip (relayed acks carry no payload).
      if (!probe.indirectSent) {
        const member = this.nodeMap.get(probe.target.name);
        this.out.events.push({
          type: 'pingComplete',
          member: snapshot(member ?? probe.target),
          rttMs: now - probe.sentAt,
          payload: ack.Payload,
        });
      }
      this.endProbe(now);
      return;
    }
    const relay = this.relays.get(ack.SeqNo);
    if (relay !== undefined) {
      this.relays.delete(ack.SeqNo);
      this.sendMsg(relay.requester, { type: 'ackResp', body: { SeqNo: relay.requesterSeq, Payload: EMPTY } });
    }
  }

  private handleNack(nack: NackResp): void {
    const probe = this.probe;
    // memberlist's nack channel holds indirectChecks + 1.
    if (probe !== null && probe.seq === nack.SeqNo && probe.nacks <= this.config.indirectChecks) {
      probe.nacks++;
    }
  }

  private replyAddress(
    from: { addr: Uint8Array; port: number },
    sourceAddr: Uint8Array,
    sourcePort: number,
    sourceNode: string,
  ): Address {
    if (sourceAddr.length > 0 && sourcePort > 0)
      return { name: sourceNode, addr: sourceAddr, port: sourcePort };
    return { name: sourceNode, addr: from.addr, port: from.port };
  }

  // ---------------------------------------------------------------- gossip and push/pull

  /** Sends pending broadcasts to a few random members: live, suspect, or dead for less than a while. */
  private gossip(now: number): void {
    const peers = this.kRandomNodes(this.config.gossipNodes, (node) => {
      if (node.name === this.name) return true;
      switch (node.state) {
        case 'alive':
        case 'suspect':
          return false;
        case 'dead':
          return now - node.stateChange > this.config.gossipToTheDeadTimeMs;
        default:
          return true;
      }
    });
    const available = this.config.udpBufferSize - COMPOUND_HEADER_OVERHEAD - this.config.packetOverhead;
    for (const peer of peers) {
      const messages = this.getBroadcasts(COMPOUND_OVERHEAD, available);
      if (messages.length === 0) return;
      this.out.packets.push({ to: addressOf(peer), messages, crc: peer.vsn[1] >= 5 });
    }
  }

  private pushPull(now: number): void {
    const [peer] = this.kRandomNodes(1, (node) => node.name === this.name || node.state !== 'alive');
    if (peer !== undefined) this.requestPushPull(addressOf(peer), false, now);
  }

  private requestPushPull(to: Address, join: boolean, now: number): number {
    const id = this.nextStreamId();
    this.pendingStreams.set(id, { kind: 'pushPull', join });
    this.out.streams.push({
      kind: 'pushPull',
      id,
      to,
      join,
      state: this.localState(join),
      deadline: now + this.config.tcpTimeoutMs,
    });
    return id;
  }

  /** Every row of the table, and the delegate's state. */
  localState(join: boolean): PushPull {
    const nodes: PushNodeState[] = this.nodes.map((node) => ({
      Name: node.name,
      Addr: node.addr,
      Port: node.port,
      Meta: node.meta,
      Incarnation: node.incarnation,
      State: NodeStateCode[node.state],
      Vsn: node.vsn,
    }));
    return { join, nodes, userState: this.delegate.localState?.(join) ?? EMPTY };
  }

  private mergeRemoteState(remote: PushPull, now: number): string | null {
    const problem = this.verifyProtocol(remote.nodes);
    if (problem !== null) return problem;
    this.mergeState(remote.nodes, now);
    if (remote.userState.length > 0) {
      this.out.events.push({ type: 'remoteState', join: remote.join, body: remote.userState });
    }
    return null;
  }

  /**
   * memberlist's mergeState: alive rows go through the alive rules, left rows through dead-from-self, and
   * dead or suspect rows only make us suspect the member (we confirm deaths ourselves).
   */
  private mergeState(remote: PushNodeState[], now: number): void {
    for (const row of remote) {
      switch (stateName[row.State]) {
        case 'alive':
          this.aliveNode(
            {
              Incarnation: row.Incarnation,
              Node: row.Name,
              Addr: row.Addr,
              Port: row.Port,
              Meta: row.Meta,
              Vsn: row.Vsn,
            },
            now,
            false,
          );
          break;
        case 'left':
          this.deadNode({ Incarnation: row.Incarnation, Node: row.Name, From: row.Name }, now);
          break;
        case 'dead':
        case 'suspect':
          this.suspectNode({ Incarnation: row.Incarnation, Node: row.Name, From: this.name }, now);
          break;
        default:
          break;
      }
    }
  }

  /** Everyone alive, here and there, must speak a protocol and delegate version all the others understand. */
  private verifyProtocol(remote: PushNodeState[]): string | null {
    let maxPMin = 0;
    let minPMax = 255;
    let maxDMin = 0;
    let minDMax = 255;
    const widen = (vsn: Vsn) => {
      maxPMin = Math.max(maxPMin, vsn[0]);
      minPMax = Math.min(minPMax, vsn[1]);
      maxDMin = Math.max(maxDMin, vsn[3]);
      minDMax = Math.min(minDMax, vsn[4]);
    };
    for (const row of remote) if (row.State === NodeStateCode.alive && row.Vsn.length > 0) widen(row.Vsn);
    for (const node of this.nodes) if (node.state === 'alive') widen(node.vsn);
    const check = (name: string, pcur: number, dcur: number) => {
      if (pcur < maxPMin || pcur > minPMax) {
        return `node '${name}' protocol version (${pcur}) is incompatible: [${maxPMin}, ${minPMax}]`;
      }
      if (dcur < maxDMin || dcur > minDMax) {
        return `node '${name}' delegate protocol version (${dcur}) is incompatible: [${maxDMin}, ${minDMax}]`;
      }
      return null;
    };
    for (const row of remote) {
      const problem = check(row.Name, row.Vsn[2] ?? 0, row.Vsn[5] ?? 0);
      if (problem !== null) return problem;
    }
    for (const node of this.nodes) {
      const problem = check(node.name, node.vsn[2], node.vsn[5]);
      if (problem !== null) return problem;
    }
    return null;
  }

  // ---------------------------------------------------------------- the state rules

  private aliveNode(alive: Alive, now: number, bootstrap: boolean, tag?: 'update'): void {
    const isLocal = alive.Node === this.name;
    // An alive about ourselves still in flight when we left must not bring us back.
    if (this.leaving && isLocal) return;
    if (alive.Vsn.length >= 3) {
      const [pMin, pMax] = alive.Vsn;
      if (pMin === 0 || pMax === 0 || pMin > pMax) return;
    }

    let node = this.nodeMap.get(alive.Node);
    let updatesNode = false;
    if (node === undefined) {
      node = {
        name: alive.Node,
        addr: alive.Addr,
        port: alive.Port,
        meta: alive.Meta,
        incarnation: 0,
        state: 'dead',
        // memberlist's zero time: reaped at the next reshuffle unless the alive below takes.
        stateChange: now - this.config.gossipToTheDeadTimeMs - 1,
        vsn: alive.Vsn,
      };
      this.nodeMap.set(alive.Node, node);
      // A random slot, so the new member's place in everyone's probe order differs.
      const n = this.nodes.length;
      const offset = n === 0 ? 0 : this.random.int(n);
      this.nodes.push(node);
      [this.nodes[offset], this.nodes[n]] = [this.nodes[n]!, this.nodes[offset]!];
    } else if (!bytesEqual(node.addr, alive.Addr) || node.port !== alive.Port) {
      const reclaim = this.config.deadNodeReclaimTimeMs;
      const canReclaim = reclaim > 0 && now - node.stateChange > reclaim;
      if (node.state === 'left' || (node.state === 'dead' && canReclaim)) {
        updatesNode = true;
      } else {
        this.out.events.push({
          type: 'conflict',
          existing: snapshot(node),
          other: { ...snapshot(node), addr: alive.Addr, port: alive.Port, meta: alive.Meta },
        });
        return;
      }
    }

    if (alive.Incarnation <= node.incarnation && !isLocal && !updatesNode) return;
    if (alive.Incarnation < node.incarnation && isLocal) return;

    this.suspicions.delete(alive.Node);
    const oldState = node.state;
    const oldMeta = node.meta;

    if (!bootstrap && isLocal) {
      // Someone speaks of us at our incarnation or later: fine if it says what we say, else refute.
      if (
        alive.Incarnation === node.incarnation &&
        bytesEqual(alive.Meta, node.meta) &&
        bytesEqual(Uint8Array.from(alive.Vsn), Uint8Array.from(node.vsn))
      ) {
        return;
      }
      this.refute(node, alive.Incarnation);
    } else {
      this.queueBroadcast(alive.Node, { type: 'alive', body: alive }, tag);
      if (alive.Vsn.length > 0) node.vsn = alive.Vsn;
      node.incarnation = alive.Incarnation;
      node.meta = alive.Meta;
      node.addr = alive.Addr;
      node.port = alive.Port;
      if (node.state !== 'alive') {
        node.state = 'alive';
        node.stateChange = now;
      }
    }

    if (oldState === 'dead' || oldState === 'left') {
      this.out.events.push({ type: 'join', member: snapshot(node) });
    } else if (!bytesEqual(oldMeta, node.meta)) {
      this.out.events.push({ type: 'update', member: snapshot(node) });
    }
  }

  private suspectNode(suspect: Suspect, now: number): void {
    const node = this.nodeMap.get(suspect.Node);
    if (node === undefined || suspect.Incarnation < node.incarnation) return;

    // Already suspected: a new accuser confirms it, shortens the timer, and is gossiped on.
    const timer = this.suspicions.get(suspect.Node);
    if (timer !== undefined) {
      if (timer.confirm(suspect.From, now))
        this.queueBroadcast(suspect.Node, { type: 'suspect', body: suspect });
      return;
    }
    if (node.state !== 'alive') return;

    if (node.name === this.name) {
      this.refute(node, suspect.Incarnation);
      return;
    }
    this.queueBroadcast(suspect.Node, { type: 'suspect', body: suspect });

    node.incarnation = suspect.Incarnation;
    node.state = 'suspect';
    node.stateChange = now;

    // Expect suspicionMult − 2 confirmations (none in a cluster too small to give them), reaching the
    // nominal timeout about two probe intervals early.
    const n = this.estNumNodes();
    let k = this.config.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const min = suspicionTimeout(this.config.suspicionMult, n, this.config.probeIntervalMs);
    const max = this.config.suspicionMaxTimeoutMult * min;
    this.suspicions.set(suspect.Node, new Suspicion(suspect.From, k, min, max, now));
  }

  private suspicionExpired(name: string, suspicion: Suspicion, now: number): void {
    this.suspicions.delete(name);
    const node = this.nodeMap.get(name);
    if (node === undefined || node.state !== 'suspect' || node.stateChange !== suspicion.start) return;
    this.deadNode({ Incarnation: node.incarnation, Node: name, From: this.name }, now);
  }

  private deadNode(dead: Dead, now: number, tag?: 'leave'): void {
    const node = this.nodeMap.get(dead.Node);
    if (node === undefined || dead.Incarnation < node.incarnation) return;
    this.suspicions.delete(dead.Node);
    if (deadOrLeft(node)) return;

    if (node.name === this.name && !this.leaving) {
      this.refute(node, dead.Incarnation);
      return;
    }
    this.queueBroadcast(dead.Node, { type: 'dead', body: dead }, tag);

    node.incarnation = dead.Incarnation;
    node.state = dead.Node === dead.From ? 'left' : 'dead';
    node.stateChange = now;
    this.out.events.push({ type: node.state === 'left' ? 'leave' : 'fail', member: snapshot(node) });
  }

  /** Outbids an accusation against us with a fresh incarnation; being accused costs a health point. */
  private refute(self: NodeRecord, accusedIncarnation: number): void {
    let incarnation = (this.incarnation + 1) >>> 0;
    if (accusedIncarnation >= incarnation) incarnation = (accusedIncarnation + 1) >>> 0;
    this.incarnation = incarnation;
    self.incarnation = incarnation;
    this.awareness.applyDelta(1);
    this.queueBroadcast(this.name, {
      type: 'alive',
      body: {
        Incarnation: incarnation,
        Node: this.name,
        Addr: self.addr,
        Port: self.port,
        Meta: self.meta,
        Vsn: self.vsn,
      },
    });
  }

  // ---------------------------------------------------------------- plumbing

  private queueBroadcast(node: string, message: GossipMessage, tag?: 'leave' | 'update'): void {
    this.broadcasts.queue({
      name: node,
      message,
      size: this.sizeOf(message),
      onFinished:
        tag === undefined ? undefined : () => this.out.events.push({ type: 'broadcastFinished', tag }),
    });
  }

  /** Our broadcasts first, then the delegate's within what is left. */
  private getBroadcasts(overhead: number, limit: number): GossipMessage[] {
    const messages = this.broadcasts.getBroadcasts(overhead, limit);
    const getUser = this.delegate.getBroadcasts;
    if (getUser === undefined) return messages;
    let used = 0;
    for (const message of messages) used += this.sizeOf(message) + overhead;
    const available = limit - used;
    if (available > overhead + USER_MSG_OVERHEAD) {
      for (const body of getUser.call(this.delegate, overhead + USER_MSG_OVERHEAD, available)) {
        messages.push({ type: 'user', body });
      }
    }
    return messages;
  }

  /** memberlist's sendMsg: a message with as much pending gossip piggybacked as the packet holds. */
  private sendMsg(to: Address, message: GossipMessage): void {
    const available =
      this.config.udpBufferSize -
      this.sizeOf(message) -
      COMPOUND_HEADER_OVERHEAD -
      this.config.packetOverhead;
    const extra = this.getBroadcasts(COMPOUND_OVERHEAD, available);
    const known = this.nodeMap.get(to.name);
    const packet: OutPacket = {
      to,
      messages: [message, ...extra],
      crc: known !== undefined && known.vsn[1] >= 5,
    };
    this.out.packets.push(packet);
  }

  /** Up to k distinct members not excluded, drawn at random (3n draws at most, so small tables are covered). */
  private kRandomNodes(k: number, exclude: (node: NodeRecord) => boolean): NodeRecord[] {
    const n = this.nodes.length;
    const picked: NodeRecord[] = [];
    for (let i = 0; i < 3 * n && picked.length < k; i++) {
      const node = this.nodes[this.random.int(n)]!;
      if (exclude(node) || picked.includes(node)) continue;
      picked.push(node);
    }
    return picked;
  }

  /** Drops members dead or left for longer than gossipToTheDeadTime, then reshuffles the probe order. */
  private resetNodes(now: number): void {
    const keep: NodeRecord[] = [];
    for (const node of this.nodes) {
      if (deadOrLeft(node) && now - node.stateChange > this.config.gossipToTheDeadTimeMs) {
        this.nodeMap.delete(node.name);
      } else {
        keep.push(node);
      }
    }
    for (let i = keep.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [keep[i], keep[j]] = [keep[j]!, keep[i]!];
    }
    this.nodes = keep;
  }

  private anyAlive(): boolean {
    return this.nodes.some((node) => node.name !== this.name && !deadOrLeft(node));
  }

  private nextSeqNo(): number {
    this.seqNo = (this.seqNo + 1) >>> 0;
    return this.seqNo;
  }

  private nextStreamId(): number {
    return ++this.streamId;
  }
}
