import { TransmitLimitedQueue } from '../core/queue.ts';
import type { GossipDelegate, GossipEvent, Member } from '../core/types.ts';
import { encodeSerfPingPayload, originCoordinate } from '../wire/serf-coordinate.ts';
import {
  decodeSerfMessage,
  encodeSerfMessage,
  type SerfMessage,
  type SerfPushPull,
} from '../wire/serf-messages.ts';
import { decodeSerfTags, encodeSerfTags } from '../wire/serf-tags.ts';
import { LamportClock } from './lamport.ts';
import {
  DEFAULT_SERF_CONFIG,
  type MemberStatusName,
  type SerfConfig,
  type SerfEvent,
  type SerfMember,
} from './types.ts';

// serf's layer over memberlist: members with a status (alive, leaving, left, failed) ordered by join and leave
// intents stamped with a Lamport clock, user events de-duplicated by their event clock, and the push/pull
// state that lets a joining node catch up on both. Deterministic: time comes in as arguments.

interface MemberRecord extends SerfMember {
  statusLTime: number;
  /** When it left or failed, for reaping. */
  leftAt: number;
}

interface Intent {
  kind: 'join' | 'leave';
  ltime: number;
  at: number;
}

interface RememberedEvents {
  ltime: number;
  events: { name: string; payload: Uint8Array }[];
}

export interface SerfOptions {
  /** This node's name. */
  name: string;
  tags: Record<string, string>;
  /** Cluster size as memberlist estimates it, for the retransmit limit. */
  numNodes: () => number;
  config?: Partial<SerfConfig>;
}

export class Serf implements GossipDelegate {
  readonly clock = new LamportClock();
  readonly eventClock = new LamportClock();
  readonly queryClock = new LamportClock();
  private readonly config: SerfConfig;
  private readonly members = new Map<string, MemberRecord>();
  private readonly intents = new Map<string, Intent>();
  private readonly eventBuffer: (RememberedEvents | undefined)[];
  private readonly queue: TransmitLimitedQueue<Uint8Array>;
  private events: SerfEvent[] = [];
  private tags: Record<string, string>;
  private leaving = false;

  constructor(private readonly options: SerfOptions) {
    this.config = { ...DEFAULT_SERF_CONFIG, ...options.config };
    this.tags = { ...options.tags };
    this.eventBuffer = new Array(this.config.eventBuffer);
    this.queue = new TransmitLimitedQueue(this.config.retransmitMult, options.numNodes);
  }

  /** Node meta for memberlist: serf's encoded tags. */
  meta(): Uint8Array {
    return encodeSerfTags(this.tags);
  }

  setTags(tags: Record<string, string>): Uint8Array {
    this.tags = { ...tags };
    return this.meta();
  }

  list(): SerfMember[] {
    return [...this.members.values()].map(publicView);
  }

  member(name: string): SerfMember | undefined {
    const record = this.members.get(name);
    return record && publicView(record);
  }

  takeEvents(): SerfEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** Broadcasts still waiting to be gossiped (a leave waits for its intent to go out). */
  pendingBroadcasts(): number {
    return this.queue.length;
  }

  // --- what this node does ---

  /** Announces that this node joined: a join intent with a fresh member time. */
  announceJoin(): void {
    const ltime = this.clock.increment();
    const self = this.members.get(this.options.name);
    if (self) self.statusLTime = ltime;
    this.broadcast({ type: 'join', body: { LTime: ltime, Node: this.options.name } });
  }

  /** Starts a graceful leave: this node is leaving, and says so before memberlist's own leave. */
  announceLeave(): void {
    this.leaving = true;
    const ltime = this.clock.increment();
    const self = this.members.get(this.options.name);
    if (self) {
      self.status = 'leaving';
      self.statusLTime = ltime;
    }
    this.broadcast({ type: 'leave', body: { LTime: ltime, Node: this.options.name, Prune: false } });
  }

  /** Asks every member to forget a failed node (Consul's force-leave); false if it is not failed here. */
  forceLeave(name: string, prune: boolean, now: number): boolean {
    const member = this.members.get(name);
    if (!member || (member.status !== 'failed' && !prune)) return false;
    const ltime = this.clock.increment();
    const message: SerfMessage = { type: 'leave', body: { LTime: ltime, Node: name, Prune: prune } };
    this.handleLeaveIntent(message.body, now);
    this.broadcast(message);
    return true;
  }

  /** Fires a user event cluster-wide; throws when it exceeds serf's size limit. */
  userEvent(name: string, payload: Uint8Array, coalesce: boolean): number {
    if (name.length + payload.length > this.config.userEventSizeLimit) {
      throw new Error(
        `user event exceeds configured limit of ${this.config.userEventSizeLimit} bytes before encoding`,
      );
    }
    const ltime = this.eventClock.increment();
    const body = { LTime: ltime, Name: name, Payload: payload, CC: coalesce };
    this.handleUserEvent(body);
    this.broadcast({ type: 'userEvent', body });
    return ltime;
  }

  // --- memberlist's delegate ---

  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    return this.queue.getBroadcasts(overhead, limit);
  }

  localState(): Uint8Array {
    const state: SerfPushPull = {
      LTime: this.clock.time(),
      StatusLTimes: new Map([...this.members.values()].map((m) => [m.name, m.statusLTime])),
      LeftMembers: [...this.members.values()].filter((m) => m.status === 'left').map((m) => m.name),
      EventLTime: this.eventClock.time(),
      Events: this.eventBuffer
        .filter((slot): slot is RememberedEvents => slot !== undefined)
        .map((slot) => ({
          LTime: slot.ltime,
          Events: slot.events.map((e) => ({ Name: e.name, Payload: e.payload })),
        })),
      QueryLTime: this.queryClock.time(),
    };
    return encodeSerfMessage({ type: 'pushPull', body: state });
  }

  /** Acks carry serf's network coordinate; this node does not compute one, so it reports the origin. */
  ackPayload(): Uint8Array {
    return encodeSerfPingPayload(originCoordinate());
  }

  // --- what memberlist reports ---

  handle(event: GossipEvent, now: number): void {
    if (event.type === 'join') this.memberJoined(event.member);
    else if (event.type === 'update') this.memberUpdated(event.member);
    else if (event.type === 'leave') this.memberGone(event.member, true, now);
    else if (event.type === 'fail') this.memberGone(event.member, false, now);
    else if (event.type === 'user') this.handleMessage(event.body, now);
    else if (event.type === 'remoteState') this.mergeRemoteState(event.body, now);
  }

  /** Forgets members failed or left for longer than their timeouts, and stale intents. */
  reap(now: number): void {
    for (const member of this.members.values()) {
      const timeout =
        member.status === 'failed'
          ? this.config.reconnectTimeoutMs
          : member.status === 'left'
            ? this.config.tombstoneTimeoutMs
            : undefined;
      if (timeout !== undefined && now - member.leftAt >= timeout) this.forget(member);
    }
    for (const [name, intent] of this.intents) {
      if (now - intent.at >= this.config.recentIntentTimeoutMs) this.intents.delete(name);
    }
  }

  private memberJoined(node: Member): void {
    let member = this.members.get(node.name);
    if (member) {
      Object.assign(member, {
        addr: node.addr,
        port: node.port,
        tags: decodeSerfTags(node.meta),
        vsn: node.vsn,
      });
      member.status = 'alive';
    } else {
      member = {
        name: node.name,
        addr: node.addr,
        port: node.port,
        tags: decodeSerfTags(node.meta),
        status: 'alive',
        vsn: node.vsn,
        statusLTime: 0,
        leftAt: 0,
      };
      this.members.set(node.name, member);
    }
    // An intent that arrived before memberlist told us of the node decides its status now.
    const intent = this.intents.get(node.name);
    if (intent && intent.ltime > member.statusLTime) {
      member.statusLTime = intent.ltime;
      if (intent.kind === 'leave') member.status = 'leaving';
    }
    this.intents.delete(node.name);
    if (node.name === this.options.name && this.leaving) member.status = 'leaving';
    this.emit('member-join', member);
  }

  private memberUpdated(node: Member): void {
    const member = this.members.get(node.name);
    if (!member) return;
    Object.assign(member, {
      addr: node.addr,
      port: node.port,
      tags: decodeSerfTags(node.meta),
      vsn: node.vsn,
    });
    this.emit('member-update', member);
  }

  /** memberlist says the node is gone: it left if it said so (a leave intent, or dead from itself). */
  private memberGone(node: Member, leftItself: boolean, now: number): void {
    const member = this.members.get(node.name);
    if (!member || member.status === 'left' || member.status === 'failed') return;
    const left = leftItself || member.status === 'leaving';
    member.status = left ? 'left' : 'failed';
    member.leftAt = now;
    this.emit(left ? 'member-leave' : 'member-failed', member);
  }

  private handleMessage(bytes: Uint8Array, now: number): void {
    let message: SerfMessage;
    try {
      message = decodeSerfMessage(bytes);
    } catch {
      return; // A message this node cannot read is dropped, as serf drops it.
    }
    let rebroadcast = false;
    if (message.type === 'join') rebroadcast = this.handleJoinIntent(message.body, now);
    else if (message.type === 'leave') rebroadcast = this.handleLeaveIntent(message.body, now);
    else if (message.type === 'userEvent') rebroadcast = this.handleUserEvent(message.body);
    // Queries and relays are serf features Consul's agents use for keyring operations; not answered here.
    if (rebroadcast) this.queue.queue({ name: null, message: bytes, size: bytes.length });
  }

  private handleJoinIntent(intent: { LTime: number; Node: string }, now: number): boolean {
    this.clock.witness(intent.LTime);
    const member = this.members.get(intent.Node);
    if (!member) return this.rememberIntent(intent.Node, 'join', intent.LTime, now);
    if (intent.LTime <= member.statusLTime) return false;
    member.statusLTime = intent.LTime;
    if (member.status === 'leaving') member.status = 'alive';
    return true;
  }

  private handleLeaveIntent(intent: { LTime: number; Node: string; Prune?: boolean }, now: number): boolean {
    this.clock.witness(intent.LTime);
    const member = this.members.get(intent.Node);
    if (!member) return this.rememberIntent(intent.Node, 'leave', intent.LTime, now);
    if (intent.LTime <= member.statusLTime) return false;
    // Someone believes this node is leaving while it is not: refute with a newer join intent.
    if (intent.Node === this.options.name && !this.leaving) {
      this.announceJoin();
      return false;
    }
    member.statusLTime = intent.LTime;
    if (intent.Prune && (member.status === 'failed' || member.status === 'left')) {
      this.forget(member);
      return true;
    }
    if (member.status === 'alive') {
      member.status = 'leaving';
      return true;
    }
    if (member.status === 'failed') {
      member.status = 'left';
      member.leftAt = now;
      this.emit('member-leave', member);
      return true;
    }
    return false;
  }

  private rememberIntent(node: string, kind: Intent['kind'], ltime: number, now: number): boolean {
    const known = this.intents.get(node);
    if (known && known.ltime >= ltime) return false;
    this.intents.set(node, { kind, ltime, at: now });
    return true;
  }

  private handleUserEvent(event: {
    LTime: number;
    Name: string;
    Payload: Uint8Array;
    CC?: boolean;
  }): boolean {
    this.eventClock.witness(event.LTime);
    const size = this.eventBuffer.length;
    const current = this.eventClock.time();
    if (current > size && event.LTime < current - size) return false;
    const index = event.LTime % size;
    let slot = this.eventBuffer[index];
    if (slot && slot.ltime === event.LTime) {
      if (slot.events.some((e) => e.name === event.Name && sameBytes(e.payload, event.Payload))) return false;
    } else {
      slot = { ltime: event.LTime, events: [] };
      this.eventBuffer[index] = slot;
    }
    slot.events.push({ name: event.Name, payload: event.Payload });
    this.events.push({
      type: 'user',
      ltime: event.LTime,
      name: event.Name,
      payload: event.Payload,
      coalesce: event.CC ?? false,
    });
    return true;
  }

  private mergeRemoteState(bytes: Uint8Array, now: number): void {
    let message: SerfMessage;
    try {
      message = decodeSerfMessage(bytes);
    } catch {
      return;
    }
    if (message.type !== 'pushPull') return;
    const state = message.body;
    if (state.LTime > 0) this.clock.witness(state.LTime - 1);
    if (state.EventLTime > 0) this.eventClock.witness(state.EventLTime - 1);
    if (state.QueryLTime > 0) this.queryClock.witness(state.QueryLTime - 1);
    const left = new Set(state.LeftMembers);
    for (const [name, ltime] of state.StatusLTimes) {
      if (left.has(name)) this.handleLeaveIntent({ LTime: ltime, Node: name }, now);
      else this.handleJoinIntent({ LTime: ltime, Node: name }, now);
    }
    for (const slot of state.Events) {
      for (const event of slot?.Events ?? []) {
        this.handleUserEvent({ LTime: slot!.LTime, Name: event.Name, Payload: event.Payload });
      }
    }
  }

  private forget(member: MemberRecord): void {
    this.members.delete(member.name);
    this.emit('member-reap', member);
  }

  private broadcast(message: SerfMessage): void {
    const bytes = encodeSerfMessage(message);
    this.queue.queue({ name: null, message: bytes, size: bytes.length });
  }

  private emit(type: Exclude<SerfEvent['type'], 'user'>, member: MemberRecord): void {
    this.events.push({ type, member: publicView(member) });
  }
}

function publicView(member: MemberRecord): SerfMember {
  const { name, addr, port, tags, status, vsn } = member;
  return { name, addr, port, tags: { ...tags }, status: status as MemberStatusName, vsn };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
