import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { RaftConfiguration } from '../../http/context.ts';
import type { RpcPool } from '../../rpc/pool.ts';
import { parseAddress } from '../../rpc/transport.ts';
import type { ApplyOutcome, StateStore } from '../../state/store.ts';
import type { Refusal } from '../core/leader.ts';
import type { MembershipChange } from '../core/membership.ts';
import { fromLeader, type Message } from '../core/messages.ts';
import { RaftNode, type Ready, type SoftState } from '../core/node.ts';
import { seededRandom } from '../core/prng.ts';
import type { HardState, NodeId, SnapshotMeta } from '../core/types.ts';
import { LogStore } from '../storage/log-store.ts';
import type { SnapshotMeta as StoredMeta } from '../storage/snapshot-meta.ts';
import { SnapshotStore } from '../storage/snapshot-store.ts';
import type { Member } from '../storage/types.ts';
import { AddressBook, membershipOf } from './address-book.ts';
import { bootstrapEntries } from './bootstrap.ts';
import { ConfigIndex } from './config-index.ts';
import { NotLeaderError, RaftStoppedError } from './errors.ts';
import { applyEntry } from './fsm.ts';
import {
  coreOptions,
  type RaftServerOptions,
  type RaftTiming,
  type ResolvedOptions,
  resolveServerOptions,
} from './options.ts';
import { encodePayload } from './payload.ts';
import { registerRaftHandlers } from './rpc-handlers.ts';
import { SnapshotFiles } from './snapshot-files.ts';
import { Snapshotter } from './snapshotter.ts';
import { describeConfiguration, describeStatus, type RaftStatus } from './status.ts';
import { Ticker } from './ticker.ts';
import { MAX_ENTRY_BYTES, PeerTransport } from './transport.ts';
import { AppliedWaiters, ChangeSignal, LEADERSHIP_LOST, Proposals, ReadRequests } from './waiters.ts';
import type { MessageBatch, PeerTarget, ReadMode, SnapshotHeader } from './wire.ts';

type Lifecycle = 'new' | 'running' | 'stopping' | 'stopped' | 'failed';

/** A snapshot read back from the store, on its way into the state machine. */
interface StoredSnapshot {
  meta: StoredMeta;
  data: Uint8Array;
}

/**
 * One Raft server: the consensus core wired to the LMDB log, the snapshot files, the state store, a tick
 * timer and the server RPC. Everything a Ready asks for happens in `drain`, in the order the core sets.
 */
export class RaftServer {
  readonly id: NodeId;
  readonly address: string;
  readonly timing: RaftTiming;
  /** Outgoing calls to peers (the caller's pool). */
  readonly pool: RpcPool;
  private readonly options: ResolvedOptions;
  private readonly logger: Logger;
  private readonly store: StateStore;
  private readonly book: AddressBook;
  private readonly transport: PeerTransport;
  private readonly ticker: Ticker;
  private readonly proposals = new Proposals<ApplyOutcome<unknown>>();
  private readonly appliedWaiters = new AppliedWaiters();
  private readonly reads: ReadRequests;
  private readonly changes = new ChangeSignal();
  private readonly appliedSignal = new ChangeSignal();
  private readonly listeners = new Set<(state: SoftState) => void>();
  private configIndex = new ConfigIndex();
  private log!: LogStore;
  private files!: SnapshotFiles;
  private snapshotter!: Snapshotter;
  private node!: RaftNode;
  private lifecycle: Lifecycle = 'new';
  private failure: Error | null = null;
  private bootstrapping = false;
  private applied = 0;
  /** The latest hard state, while only its commit index is newer than the stored one. */
  private unsavedHardState: HardState | null = null;
  /** The Ready loop, while it runs. */
  private draining: Promise<void> | null = null;
  private lastContactAt = performance.now();
  private stopping: Promise<void> | undefined;

  constructor(options: RaftServerOptions) {
    this.options = resolveServerOptions(options);
    parseAddress(options.address);
    this.id = options.id;
    this.address = options.address;
    this.timing = this.options.timing;
    this.pool = options.pool;
    this.logger = options.logger.child({ name: 'raft' });
    this.store = options.store;
    this.book = new AddressBook(this.id, this.address);
    this.transport = new PeerTransport(options.pool, this.address, this.logger);
    this.ticker = new Ticker(this.timing.tickMs, (count) => this.onTicks(count));
    this.reads = new ReadRequests(`${this.id}/${Date.now().toString(36)}`);
  }

  /** Opens the log and snapshots under `<dataDir>/raft`, restores the state, and starts taking part. */
  async start(): Promise<void> {
    if (this.lifecycle !== 'new') throw new Error('raft server already started');
    const dir = join(this.options.dataDir, 'raft');
    this.log = LogStore.open(dir);
    try {
      const store = await SnapshotStore.open(dir);
      for (const { id, reason } of store.discarded) {
        this.logger.warn({ snapshot: id, reason }, 'raft: discarded a broken snapshot');
      }
      this.files = new SnapshotFiles(store);
      this.snapshotter = this.createSnapshotter();
      const snapshot = await this.restoreLatest();
      this.scanLog();
      this.node = this.createNode(snapshot);
    } catch (err) {
      await this.log.close();
      throw err;
    }
    registerRaftHandlers(this.options.rpcServer, this);
    this.lifecycle = 'running';
    this.ticker.start();
    this.logger.info(
      { id: this.id, address: this.address, applied: this.applied, lastIndex: this.log.lastIndex() },
      'raft: started',
    );
    this.kick();
  }

  /**
   * Writes the initial configuration, if this server has never been part of a cluster. Returns false (and
   * changes nothing) when it has, so calling it again after a restart is harmless.
   */
  async bootstrap(members: Member[]): Promise<boolean> {
    this.requireRunning();
    const entries = bootstrapEntries(members);
    await this.idle();
    if (!this.pristine()) return false;
    // Nothing may step the core while it is replaced by one that reads the bootstrapped log.
    this.bootstrapping = true;
    try {
      await Promise.all([
        this.log.append(entries),
        this.log.setHardState({ term: 1, vote: null, commit: entries.length }),
      ]);
      this.book.scan(entries);
      this.configIndex.written(entries, entries.length);
      this.node = this.createNode(undefined);
    } finally {
      this.bootstrapping = false;
    }
    this.logger.info({ members }, 'raft: bootstrapped the cluster');
    this.kick();
    return true;
  }

  /** Stops taking part; the log and snapshots stay as they are for the next start. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  // --- writes and reads ---

  /** Proposes entry data here (this server must lead); resolves with the state machine's outcome once applied. */
  async propose(data: Uint8Array): Promise<ApplyOutcome<unknown>> {
    this.requireRunning();
    if (data.length > MAX_ENTRY_BYTES) {
      throw new Error(
        `a log entry of ${data.length} bytes exceeds the largest replicable ${MAX_ENTRY_BYTES}`,
      );
    }
    const proposed = this.node.propose(data);
    if (!proposed.ok) throw refusalError(proposed);
    const outcome = this.proposals.add(proposed.index, proposed.term);
    this.kick();
    return outcome;
  }

  /**
   * The index a linearizable read must wait for (this server must lead): under the lease for `default`
   * reads while it holds, else once a quorum confirms this server still leads (ReadIndex).
   */
  async readIndex(mode: ReadMode): Promise<number> {
    this.requireRunning();
    if (mode === 'default') {
      const index = this.node.leaseRead();
      if (index !== null) return index;
    }
    const requestId = this.reads.nextId();
    if (!this.node.readIndex(requestId)) throw new NotLeaderError();
    const index = this.reads.add(requestId);
    this.kick();
    return index;
  }

  /** Whether the state machine has applied `index` already. */
  hasApplied(index: number): boolean {
    return this.applied >= index;
  }

  /** Resolves once the state machine has applied `index`. */
  async whenApplied(index: number): Promise<void> {
    this.requireRunning();
    await this.appliedWaiters.wait(index, this.applied);
  }

  /** Resolves on the next change of leader, role or term, or after `timeoutMs`. */
  nextChange(timeoutMs: number): Promise<void> {
    return this.changes.next(timeoutMs);
  }

  /** Calls `listener` whenever leader, role or term change; returns the unsubscribe function. */
  onStateChange(listener: (state: SoftState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- what this server knows ---

  /** The leader as this server knows it, with its RPC address ('' if unknown). */
  leader(): { id: NodeId; address: string } | null {
    const id = this.lifecycle === 'running' ? this.node.leader : null;
    return id === null ? null : { id, address: this.book.get(id) ?? '' };
  }

  /** Started, and neither stopped nor failed. */
  get running(): boolean {
    return this.lifecycle === 'running';
  }

  get isLeader(): boolean {
    return this.lifecycle === 'running' && this.node.role === 'leader';
  }

  /** Milliseconds since this server last heard from the leader: 0 on the leader. */
  lastContactMs(): number {
    if (this.isLeader) return 0;
    return Math.round(performance.now() - this.lastContactAt);
  }

  /** The configuration in force on this server, with addresses. */
  members(): Member[] {
    this.requireStarted();
    return this.book.members(this.node.status().membership);
  }

  status(): RaftStatus {
    this.requireStarted();
    return describeStatus({
      core: this.node.status(),
      book: this.book,
      address: this.address,
      applied: this.applied,
      snapshotIndex: this.snapshotter.index,
      lastContactMs: this.lastContactMs(),
      tickMs: this.timing.tickMs,
    });
  }

  /** The configuration and what this server knows of each member's log (all of it on the leader). */
  configuration(): RaftConfiguration {
    this.requireStarted();
    return describeConfiguration({
      core: this.node.status(),
      book: this.book,
      configIndex: this.configIndex.current,
      termAt: (index) => this.node.log.term(index),
      lastContactMs: this.lastContactMs(),
      tickMs: this.timing.tickMs,
    });
  }

  // --- membership (on the leader) ---

  /** Adds a voting server; resolves once the change is committed. */
  addVoter(id: NodeId, address: string): Promise<void> {
    return this.changeMembership({ kind: 'add-voter', node: id }, address);
  }

  /** Adds a server that receives the log but does not vote. */
  addNonVoter(id: NodeId, address: string): Promise<void> {
    return this.changeMembership({ kind: 'add-learner', node: id }, address);
  }

  promote(id: NodeId): Promise<void> {
    return this.changeMembership({ kind: 'promote', node: id });
  }

  remove(id: NodeId): Promise<void> {
    return this.changeMembership({ kind: 'remove', node: id });
  }

  /** Removes the member with this id or RPC address, in Consul's words when there is none. */
  async removePeer(target: PeerTarget): Promise<void> {
    this.requireLeader();
    const members = this.members();
    const member =
      'id' in target
        ? members.find((m) => m.id === target.id)
        : members.find((m) => m.address === target.address);
    if (!member) {
      const name = 'id' in target ? `id "${target.id}"` : `address "${target.address}"`;
      throw new Error(`${name} was not found in the Raft configuration`);
    }
    await this.remove(member.id);
  }

  /**
   * Hands leadership to `to`, or to the most up-to-date other voter; resolves with the new leader's id once
   * this server has stepped down and a leader is known.
   */
  async transferLeadership(to?: NodeId): Promise<NodeId> {
    this.requireLeader();
    const target = to ?? this.bestSuccessor();
    // hashicorp/raft's words for a target that is not another voter.
    if (target === null || (target !== this.id && !this.node.status().membership.voters.includes(target))) {
      throw new Error('cannot find peer');
    }
    if (target === this.id) return this.id;
    const proposed = this.node.transferLeadership(target);
    if (!proposed.ok) throw refusalError(proposed);
    this.kick();
    // The core abandons a transfer after an election timeout; the new leader's election comes on top.
    const deadline = performance.now() + 2 * this.timing.electionMaxMs + 2 * this.timing.heartbeatMs;
    for (;;) {
      const leader = this.node.leader;
      if (!this.isLeader && leader !== null) return leader;
      const left = deadline - performance.now();
      if (left <= 0 || this.lifecycle !== 'running') {
        throw new Error(`leadership transfer to ${target} did not complete`);
      }
      await this.changes.next(left);
    }
  }

  private async changeMembership(change: MembershipChange, address?: string): Promise<void> {
    if (address !== undefined) parseAddress(address);
    const deadline = performance.now() + this.options.membershipTimeoutMs;
    for (;;) {
      this.requireLeader();
      // The address goes into the log first, so every server can reach the new member once it is one.
      if (address !== undefined && this.book.get(change.node) !== address) {
        this.node.propose(encodePayload({ kind: 'addresses', servers: [{ id: change.node, address }] }));
      }
      const proposed = this.node.proposeMembershipChange(change);
      const left = deadline - performance.now();
      if (proposed.ok) {
        const committed = this.proposals.add(proposed.index, proposed.term);
        this.kick();
        await withTimeout(committed, left, `the change of ${change.node} did not commit in time`);
        this.logger.info({ change }, 'raft: membership changed');
        return;
      }
      // One change at a time: wait for the one in progress to commit.
      if (proposed.reason !== 'change-in-progress' || left <= 0) throw refusalError(proposed);
      this.kick();
      await this.appliedSignal.next(left);
    }
  }

  private bestSuccessor(): NodeId | null {
    const voters = this.node.status().peers.filter((peer) => peer.voter);
    voters.sort((a, b) => b.match - a.match);
    return voters[0]?.id ?? null;
  }

  // --- from peers (through the RPC handlers) ---

  /** Steps the messages of a batch a peer sent. */
  receive(batch: MessageBatch): void {
    if (!this.active) return;
    for (const message of batch.messages) {
      // Sent to a server that used to be at this address: not ours.
      if (message.to !== this.id) continue;
      this.book.observe(message.from, batch.from);
      this.step(message);
    }
    this.kick();
  }

  /** Stores a snapshot a leader streams, then steps its install-snapshot message with the stored handle. */
  async receiveSnapshot(header: SnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<null> {
    this.requireRunning();
    const { message } = header;
    if (message.to !== this.id) throw new Error(`a snapshot for ${message.to} reached ${this.id}`);
    this.logger.info({ from: message.from, index: message.meta.index }, 'raft: receiving a snapshot');
    const handle = await this.files.receive(header.snapshot, chunks);
    if (!this.active) throw this.failure ?? new RaftStoppedError();
    this.book.observe(message.from, header.from);
    this.step({ ...message, handle });
    this.kick();
    return null;
  }

  // --- driving the core ---

  private get active(): boolean {
    return this.lifecycle === 'running' && !this.bootstrapping;
  }

  private onTicks(count: number): void {
    if (!this.active) return;
    this.node.tick(count);
    this.kick();
  }

  private step(message: Message): void {
    this.node.step(message);
    if (fromLeader(message) && this.node.leader === message.from) this.lastContactAt = performance.now();
  }

  /** Runs the Ready loop unless it runs already (then it picks the new work up itself). */
  private kick(): void {
    if (this.draining || !this.active) return;
    this.draining = this.drain()
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.draining = null;
        if (this.active && this.node.hasReady()) this.kick();
      });
  }

  /**
   * The Ready contract: persist (durably, before anything but a leader's replication leaves), send, restore
   * and apply, answer reads, advance. A leader replicates and applies what is committed while its own write
   * is on the way, so a write waits for one fsync on each side rather than several in a row. Proposals
   * arriving while a Ready is being persisted go out together in the next one.
   */
  private async drain(): Promise<void> {
    while (this.active && this.node.hasReady()) {
      const ready = this.node.ready();
      const incoming = ready.snapshot ? await this.files.readAll(ready.snapshot.handle) : null;
      this.record(ready, incoming);
      this.send(ready.earlyMessages);
      if (!incoming) this.apply(ready);
      await this.persist(ready, incoming);
      if (!this.active) return;
      this.send(ready.messages);
      if (incoming) {
        this.restore(incoming);
        this.apply(ready);
      }
      for (const { requestId, index } of ready.readStates) this.reads.answer(requestId, index);
      for (const requestId of ready.abortedReads) {
        this.reads.fail(requestId, new NotLeaderError('leadership lost while confirming a read'));
      }
      this.node.advance();
      if (ready.softState) this.changed(ready.softState);
      this.snapshotter.maybeTake(this.node, this.applied);
    }
  }

  /** What a Ready's snapshot and entries change in the driver's own books, before anything is sent. */
  private record(ready: Ready, incoming: StoredSnapshot | null): void {
    if (ready.snapshot && incoming) {
      this.book.reset(incoming.meta.membership);
      this.configIndex.reset(ready.snapshot.meta.index);
    }
    if (ready.entries.length > 0) {
      this.proposals.overwritten(ready.entries);
      this.book.scan(ready.entries);
      this.configIndex.written(ready.entries, this.node.commit);
    }
  }

  private async persist(ready: Ready, incoming: StoredSnapshot | null): Promise<void> {
    const writes: Promise<void>[] = [];
    if (ready.snapshot && incoming) {
      const { index, term } = ready.snapshot.meta;
      writes.push(this.log.installSnapshot({ index, term }));
    }
    if (ready.entries.length > 0) writes.push(this.log.append(ready.entries));
    if (ready.hardState) this.unsavedHardState = ready.hardState;
    // A hard state that only moved the commit index waits for the next write that must be synced anyway:
    // a commit index lost in a crash is learnt again from the leader, and an fsync of its own would delay
    // the next Ready's entries, and every message with them.
    if (!ready.mustSync) return;
    if (this.unsavedHardState) writes.push(this.log.setHardState(this.unsavedHardState));
    this.unsavedHardState = null;
    await Promise.all(writes);
  }

  /** Sends each peer its messages in batches; snapshots go on streams of their own. */
  private send(messages: readonly Message[]): void {
    const byPeer = new Map<NodeId, Message[]>();
    for (const message of messages) {
      if (message.type === 'install-snapshot') {
        this.snapshotter.send(message);
        continue;
      }
      const list = byPeer.get(message.to);
      if (list) list.push(message);
      else byPeer.set(message.to, [message]);
    }
    for (const [to, list] of byPeer) {
      const address = this.book.get(to);
      if (address) {
        this.transport.send(address, list);
      } else {
        this.logger.debug({ peer: to }, 'raft: no address known for peer; messages dropped');
        this.node.reportUnreachable(to);
      }
    }
  }

  private restore({ meta, data }: StoredSnapshot): void {
    this.store.restore(data);
    this.applied = this.snapshotter.index = meta.index;
    this.proposals.failThrough(meta.index);
    this.logger.info({ index: meta.index, term: meta.term }, 'raft: installed a snapshot from the leader');
  }

  private apply(ready: Ready): void {
    for (const entry of ready.committed) {
      const outcome = applyEntry(this.store, entry);
      this.applied = entry.index;
      this.proposals.applied(entry, outcome);
    }
    if (ready.committed.length > 0 || ready.snapshot) {
      this.appliedWaiters.notify(this.applied);
      this.appliedSignal.fire();
    }
  }

  private changed(state: SoftState): void {
    this.logger.info(state, 'raft: state changed');
    // As hashicorp/raft does: a leader that steps down fails what it proposed, whose fate it cannot know.
    if (state.role !== 'leader') this.proposals.failAll(new Error(LEADERSHIP_LOST));
    this.changes.fire();
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch (err) {
        this.logger.error({ err }, 'raft: state change listener failed');
      }
    }
  }

  // --- start and stop ---

  private createSnapshotter(): Snapshotter {
    const { options } = this;
    return new Snapshotter({
      files: this.files,
      log: this.log,
      store: this.store,
      book: this.book,
      transport: this.transport,
      logger: this.logger,
      selfAddress: this.address,
      threshold: options.snapshotThreshold,
      trailingLogs: options.trailingLogs,
      streamTimeoutMs: options.snapshotTimeoutMs,
      node: () => (this.active ? this.node : null),
      kick: () => this.kick(),
    });
  }

  /** Restores the state machine from the newest snapshot, and makes sure the log can continue from it. */
  private async restoreLatest(): Promise<SnapshotMeta | undefined> {
    const latest = this.files.latest();
    if (!latest) return undefined;
    // A snapshot streamed from a leader is stored before the log moves onto it, so a crash in between
    // leaves a log that may not reach, or may disagree with, the snapshot: then the snapshot replaces it.
    const { log } = this;
    const holdsIt =
      latest.index <= log.snapshotPoint().index ||
      (latest.index <= log.lastIndex() && log.term(latest.index) === latest.term);
    if (!holdsIt) await log.installSnapshot({ index: latest.index, term: latest.term });
    // No term may run behind the log's last one (the crash came before this server adopted the sender's).
    const hardState = log.hardState();
    if (hardState.term < latest.term) await log.setHardState({ ...hardState, term: latest.term, vote: null });
    const { data } = await this.files.readAll(latest.id);
    this.store.restore(data);
    this.applied = this.snapshotter.index = latest.index;
    this.book.reset(latest.membership);
    this.configIndex = new ConfigIndex(latest.index);
    return { index: latest.index, term: latest.term, membership: membershipOf(latest.membership) };
  }

  /** Picks up addresses and configuration changes from the log after the snapshot. */
  private scanLog(): void {
    const last = this.log.lastIndex();
    const commit = this.log.hardState().commit;
    for (let lo = Math.max(this.log.firstIndex(), this.applied + 1); lo <= last; ) {
      const batch = this.log.entries(lo, last + 1, 1 << 20);
      this.book.scan(batch);
      this.configIndex.written(batch, commit);
      lo += batch.length;
    }
  }

  private createNode(snapshot: SnapshotMeta | undefined): RaftNode {
    return new RaftNode({
      id: this.id,
      storage: this.log,
      hardState: this.log.hardState(),
      snapshot,
      applied: this.applied,
      options: coreOptions(this.timing),
      random: this.options.random ?? seededRandom(randomInt(2 ** 32)),
    });
  }

  /** Nothing in the log, no snapshot, never voted: a server that has never been part of a cluster. */
  private pristine(): boolean {
    return (
      this.log.lastIndex() === 0 &&
      this.log.hardState().term === 0 &&
      this.files.latest() === null &&
      this.node.term === 0 &&
      this.node.log.lastIndex() === 0
    );
  }

  private async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async shutdown(): Promise<void> {
    if (this.lifecycle === 'new') {
      this.lifecycle = 'stopped';
      return;
    }
    if (this.lifecycle === 'running') this.lifecycle = 'stopping';
    this.ticker.stop();
    await this.idle();
    // A snapshot streaming in is left to finish or fail on its own: its sender is what it waits for.
    await this.snapshotter.settled();
    this.failEverything(this.failure ?? new RaftStoppedError());
    if (this.unsavedHardState && !this.failure) await this.log.setHardState(this.unsavedHardState);
    await this.log.close();
    this.lifecycle = 'stopped';
    this.logger.info('raft: stopped');
  }

  /** Storage failed: nobody knows what reached the disk, so this server stops taking part. */
  private fail(err: unknown): void {
    if (this.lifecycle !== 'running') {
      this.logger.error({ err }, 'raft: failure while stopping');
      return;
    }
    this.lifecycle = 'failed';
    const reason = err instanceof Error ? err.message : String(err);
    this.failure = new RaftStoppedError(`raft server failed: ${reason}`);
    this.logger.error({ err }, 'raft: storage failed; this server no longer takes part');
    this.ticker.stop();
    this.failEverything(this.failure);
  }

  private failEverything(error: Error): void {
    this.proposals.failAll(error);
    this.reads.failAll(error);
    this.appliedWaiters.failAll(error);
    this.changes.fire();
    this.appliedSignal.fire();
  }

  private requireStarted(): void {
    if (this.lifecycle === 'new') throw new Error('raft server is not started');
  }

  private requireRunning(): void {
    if (this.lifecycle !== 'running') throw this.failure ?? new RaftStoppedError();
  }

  private requireLeader(): void {
    this.requireRunning();
    if (this.node.role !== 'leader') throw new NotLeaderError();
  }
}

function refusalError(refusal: Refusal): Error {
  switch (refusal.reason) {
    case 'not-leader':
      return new NotLeaderError();
    case 'transferring':
      return new NotLeaderError('leadership transfer in progress');
    case 'change-in-progress':
      return new Error('a configuration change is still being committed');
    case 'invalid':
      return new Error(refusal.detail);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
