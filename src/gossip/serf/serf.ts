import { TransmitLimitedQueue } from '../core/queue.ts';
import type { GossipDelegate, GossipEvent, Member } from '../core/types.ts';
import type { Keyring } from '../wire/keyring.ts';
import { encodeSerfPingPayload, originCoordinate } from '../wire/serf-coordinate.ts';
import {
  decodeSerfMessage,
  encodeSerfMessage,
  type SerfMessage,
  type SerfPushPull,
  type SerfQuery,
  SerfQueryFlag,
  type SerfQueryResponse,
  type SerfRelay,
} from '../wire/serf-messages.ts';
import { decodeSerfTags, encodeSerfTags } from '../wire/serf-tags.ts';
import { handleInternalQuery, INTERNAL_QUERY_PREFIX } from './internal-query.ts';
import { LamportClock } from './lamport.ts';
import {
  defaultQueryTimeoutMs,
  encodeQueryFilters,
  type IncomingQuery,
  normalizeIp,
  QueryBuffer,
  type QueryParams,
  RunningQuery,
  sameAddress,
  shouldProcessQuery,
} from './query.ts';
import {
  DEFAULT_SERF_CONFIG,
  type MemberStatusName,
  type SerfConfig,
  type SerfEvent,
  type SerfMember,
} from './types.ts';

// serf's layer over memberlist: members with a status (alive, leaving, left, failed) ordered by join and leave
// intents stamped with a Lamport clock, user events de-duplicated by their event clock, the push/pull
// state that lets a joining node catch up on both, and queries: gossiped like events, de-duplicated by the
// query clock, answered straight to the asker (takeDirect), serf's own `_serf_*` ones answered here.
// Deterministic: time comes in as arguments.

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
  /** memberlist's gossip interval, which the default query timeout scales with (LAN: 200 ms). */
  gossipIntervalMs?: number;
  /** Members memberlist counts alive, this node included (its NumMembers); numNodes when absent. */
  numMembers?: () => number;
  /** Where this node receives UDP (queries ask for answers there); this node's member record when absent. */
  localAddress?: () => { addr: Uint8Array; port: number };
  /** The gossip keyring the key queries change; absent when gossip is not encrypted. */
  keyring?: Keyring;
  /** Persists the keyring after a key query changed it (serf's keyring file); throws when it cannot. */
  persistKeyring?: () => void;
  /** serf's log lines about queries. */
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
  /** A float in [0, 1), for query IDs and relay choices; Math.random when absent. */
  random?: () => number;
}

/** A serf message to send by UDP straight to an address: a query's ack or answer, or a relayed answer. */
export interface DirectMessage {
  addr: Uint8Array;
  port: number;
  /** The encoded serf message, to carry as a memberlist user message. */
  message: Uint8Array;
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
  /** Queries are gossiped from their own queue, after intents and events. */
  private readonly queryQueue: TransmitLimitedQueue<Uint8Array>;
  private readonly queryBuffer: QueryBuffer;
  /** Queries this node sent and still collects answers for, by query time. */
  private readonly runningQueries = new Map<number, RunningQuery>();
  private readonly queryListeners = new Set<(query: IncomingQuery) => void>();
  private outbox: DirectMessage[] = [];

  constructor(private readonly options: SerfOptions) {
    this.config = { ...DEFAULT_SERF_CONFIG, ...options.config };
    this.tags = { ...options.tags };
    this.eventBuffer = new Array(this.config.eventBuffer);
    this.queue = new TransmitLimitedQueue(this.config.retransmitMult, options.numNodes);
    this.queryQueue = new TransmitLimitedQueue(this.config.retransmitMult, options.numNodes);
    this.queryBuffer = new QueryBuffer(this.config.queryBuffer);
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
    const messages = this.queue.getBroadcasts(overhead, limit);
    let used = 0;
    for (const message of messages) used += message.length + overhead;
    return [...messages, ...this.queryQueue.getBroadcasts(overhead, limit - used)];
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
    for (const query of this.runningQueries.values()) if (query.finished(now)) this.closeQuery(query);
  }

  // --- queries ---

  /** serf's DefaultQueryTimeout for the membership as it is now. */
  defaultQueryTimeoutMs(): number {
    const members = (this.options.numMembers ?? this.options.numNodes)();
    return defaultQueryTimeoutMs(this.options.gossipIntervalMs ?? 200, members, this.config.queryTimeoutMult);
  }

  /**
   * Starts a query (serf's Query): stamped with the query clock, processed here first (this node answers
   * its own query like any member), then gossiped. Answers are collected on the returned query until its
   * deadline or closeQuery. Throws when the encoded query exceeds the size limit.
   */
  query(name: string, payload: Uint8Array, params: QueryParams, now: number): RunningQuery {
    const timeoutMs = params.timeoutMs || this.defaultQueryTimeoutMs();
    const local = this.localAddress();
    const query: SerfQuery = {
      LTime: this.queryClock.time(),
      ID: Math.floor(this.random() * 2 ** 31),
      Addr: local.addr,
      Port: local.port,
      SourceNode: this.options.name,
      Filters: encodeQueryFilters(params),
      Flags: params.requestAck ? SerfQueryFlag.ack : 0,
      RelayFactor: params.relayFactor ?? 0,
      Timeout: Math.round(timeoutMs * 1e6),
      Name: name,
      Payload: payload,
    };
    const raw = encodeSerfMessage({ type: 'query', body: query });
    if (raw.length > this.config.querySizeLimit) {
      throw new Error(`query exceeds limit of ${this.config.querySizeLimit} bytes`);
    }
    const running = new RunningQuery(query, now + timeoutMs);
    this.runningQueries.set(query.LTime, running);
    this.handleQuery(query, now);
    this.queryQueue.queue({ name: null, message: raw, size: raw.length });
    return running;
  }

  /** Ends a query: answers that arrive later are dropped. */
  closeQuery(query: RunningQuery): void {
    query.close();
    if (this.runningQueries.get(query.ltime) === query) this.runningQueries.delete(query.ltime);
  }

  /** Queries that are not serf's own (`_serf_*`), for the application to answer. */
  onQuery(listener: (query: IncomingQuery) => void): () => void {
    this.queryListeners.add(listener);
    return () => this.queryListeners.delete(listener);
  }

  /** Messages to send by UDP straight to an address since the last call: acks, answers, relays. */
  takeDirect(): DirectMessage[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
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
    else if (message.type === 'query') {
      if (this.handleQuery(message.body, now)) {
        this.queryQueue.queue({ name: null, message: bytes, size: bytes.length });
      }
    } else if (message.type === 'queryResponse') this.handleQueryResponse(message.body, now);
    else if (message.type === 'relay') this.relay(message.body, now);
    if (rebroadcast) this.queue.queue({ name: null, message: bytes, size: bytes.length });
  }

  /**
   * serf's handleQuery: de-duplicated by query time and ID, then, when the filters pick this node, acked if
   * asked and answered (serf's own queries here, others by the listeners). True when it is to be gossiped on.
   */
  private handleQuery(query: SerfQuery, now: number): boolean {
    this.queryClock.witness(query.LTime);
    if (!this.queryBuffer.record(query.LTime, query.ID, this.queryClock.time())) return false;
    const rebroadcast = (query.Flags & SerfQueryFlag.noBroadcast) === 0;
    if (!shouldProcessQuery(query.Filters, this.options.name, this.tags)) return rebroadcast;
    const to = { addr: normalizeIp(query.Addr), port: query.Port };
    if ((query.Flags & SerfQueryFlag.ack) !== 0) {
      const ack = this.response(query, SerfQueryFlag.ack, new Uint8Array(0));
      this.sendDirect(to, encodeSerfMessage({ type: 'queryResponse', body: ack }), now);
      try {
        this.relayResponse(query, to, ack, now);
      } catch (err) {
        this.options.log?.('error', `serf: failed to relay ack: ${(err as Error).message}`);
      }
    }
    const incoming = this.incoming(query, to, now);
    if (query.Name.startsWith(INTERNAL_QUERY_PREFIX)) {
      handleInternalQuery(incoming, {
        nodeName: this.options.name,
        member: (name) => this.member(name),
        keyring: this.options.keyring,
        responseSizeLimit: this.config.queryResponseSizeLimit,
        ...(this.options.persistKeyring ? { persistKeyring: this.options.persistKeyring } : {}),
        ...(this.options.log ? { log: this.options.log } : {}),
      });
    } else {
      for (const listener of this.queryListeners) {
        try {
          listener(incoming);
        } catch (err) {
          this.options.log?.('error', `serf: query ${query.Name} handler failed: ${(err as Error).message}`);
        }
      }
    }
    return rebroadcast;
  }

  private response(query: SerfQuery, flags: number, payload: Uint8Array): SerfQueryResponse {
    return { LTime: query.LTime, ID: query.ID, From: this.options.name, Flags: flags, Payload: payload };
  }

  /** serf's Query event: one answer, within the size limit, before the deadline the query's timeout sets. */
  private incoming(
    query: SerfQuery,
    to: { addr: Uint8Array; port: number },
    receivedAt: number,
  ): IncomingQuery {
    const limit = this.config.queryResponseSizeLimit;
    let deadline: number | undefined = receivedAt + query.Timeout / 1e6;
    const encode = (payload: Uint8Array) =>
      encodeSerfMessage({ type: 'queryResponse', body: this.response(query, 0, payload) });
    return {
      ltime: query.LTime,
      id: query.ID,
      name: query.Name,
      payload: query.Payload,
      sourceNode: query.SourceNode,
      fits: (payload) => encode(payload).length <= limit,
      respond: (payload, now = receivedAt) => {
        const raw = encode(payload);
        if (raw.length > limit) throw new Error(`response exceeds limit of ${limit} bytes`);
        if (deadline === undefined) throw new Error('response already sent');
        if (now > deadline) throw new Error('response is past the deadline');
        this.sendDirect(to, raw, now);
        this.relayResponse(query, to, this.response(query, 0, payload), now);
        deadline = undefined;
      },
    };
  }

  /** serf's relayResponse: the answer also goes through `RelayFactor` random alive members (protocol ≥ 5). */
  private relayResponse(
    query: SerfQuery,
    to: { addr: Uint8Array; port: number },
    response: SerfQueryResponse,
    now: number,
  ): void {
    const factor = query.RelayFactor;
    if (factor === 0) return;
    const members = [...this.members.values()];
    if (members.length < factor + 1) return;
    const raw = encodeSerfMessage({
      type: 'relay',
      body: {
        DestAddr: { IP: to.addr, Port: to.port, Zone: '' },
        DestName: query.SourceNode,
        message: encodeSerfMessage({ type: 'queryResponse', body: response }),
      },
    });
    if (raw.length > this.config.queryResponseSizeLimit) {
      throw new Error(`relayed response exceeds limit of ${this.config.queryResponseSizeLimit} bytes`);
    }
    const candidates = members.filter(
      (m) => m.status === 'alive' && (m.vsn[1] ?? 0) >= 5 && m.name !== this.options.name,
    );
    for (let i = 0; i < factor && candidates.length > 0; i++) {
      const [relay] = candidates.splice(Math.floor(this.random() * candidates.length), 1);
      this.sendDirect(relay!, raw, now);
    }
  }

  /** A relayed answer: forwarded as it is to the address it names. */
  private relay(relay: SerfRelay, now: number): void {
    this.options.log?.('debug', `serf: Relaying response to node ${relay.DestName}`);
    this.sendDirect({ addr: normalizeIp(relay.DestAddr.IP), port: relay.DestAddr.Port }, relay.message, now);
  }

  /** serf's handleQueryResponse: an ack or answer for a query this node is running. */
  private handleQueryResponse(response: SerfQueryResponse, now: number): void {
    const query = this.runningQueries.get(response.LTime);
    if (!query) {
      this.options.log?.(
        'warn',
        `serf: reply for non-running query (LTime: ${response.LTime}, ID: ${response.ID}) From: ${response.From}`,
      );
      return;
    }
    if (query.id !== response.ID) {
      this.options.log?.(
        'warn',
        `serf: query reply ID mismatch (Local: ${query.id}, Response: ${response.ID})`,
      );
      return;
    }
    query.take(response, now);
  }

  /** Queues a message for an address; one for this node itself is handled at once. */
  private sendDirect(to: { addr: Uint8Array; port: number }, message: Uint8Array, now: number): void {
    const local = this.localAddress();
    if (to.port === local.port && sameAddress(to.addr, local.addr)) {
      this.handleMessage(message, now);
      return;
    }
    this.outbox.push({ addr: to.addr, port: to.port, message });
  }

  private localAddress(): { addr: Uint8Array; port: number } {
    if (this.options.localAddress) return this.options.localAddress();
    const self = this.members.get(this.options.name);
    if (!self) throw new Error('serf does not know its own member yet');
    return { addr: self.addr, port: self.port };
  }

  private random(): number {
    return (this.options.random ?? Math.random)();
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
