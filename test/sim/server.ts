import type { RaftOptions } from '../../src/raft/core/config.ts';
import type { InstallSnapshot, Message } from '../../src/raft/core/messages.ts';
import { RaftNode, type Ready } from '../../src/raft/core/node.ts';
import { type Random, seededRandom } from '../../src/raft/core/prng.ts';
import { type Entry, EntryType, type NodeId } from '../../src/raft/core/types.ts';
import { SimDisk, snapshotAt } from './disk.ts';
import type { EventQueue } from './event-queue.ts';
import type { ClientReply, ClientRequest } from './history.ts';
import type { Invariants } from './invariants.ts';
import { decodeCommand, encodeCommand, KvStore } from './kv.ts';

export interface ServerSettings {
  raft: Partial<RaftOptions>;
  tickMs: number;
  /** Each server's clock runs up to this fraction fast or slow. */
  clockDrift: number;
  /** Range of an fsync's duration, in ms. */
  syncMs: [number, number];
  /** Take a snapshot once this many entries were applied since the last one. */
  snapshotEvery: number;
  /** Entries kept in the log behind a snapshot (so slightly lagging followers avoid a snapshot). */
  keepTrailing: number;
}

export interface ServerHost {
  readonly queue: EventQueue;
  readonly random: Random;
  readonly invariants: Invariants;
  readonly settings: ServerSettings;
  /** Sends a message; an install-snapshot carries the sender's snapshot data alongside, as a stream would. */
  send(message: Message, snapshotData: Uint8Array | null): void;
  /** Counts an event of interest, for the run's summary. */
  count(event: string): void;
}

type Reply = (answer: ClientReply) => void;

/** One simulated server: the consensus core plus what a driver does around it (disk, network, state machine). */
export class SimServer {
  raft: RaftNode | null = null;
  kv = new KvStore();
  applied = 0;
  readonly disk: SimDisk;
  /** Bumped by every crash so that timers and fsyncs of a previous life do nothing. */
  private incarnation = 0;
  private syncing = false;
  private writes = new Map<number, { term: number; reply: Reply }>();
  private reads = new Map<string, { key: string; reply: Reply }>();
  private waitingForApply: { index: number; run: () => void }[] = [];
  private staged = new Map<string, Uint8Array>();
  private nextHandle = 0;
  /** This server's tick interval in ms: the simulated tick, skewed by the clock's drift. */
  tickMs: number;

  constructor(
    readonly id: NodeId,
    private readonly host: ServerHost,
  ) {
    const { settings, random } = host;
    this.tickMs = settings.tickMs * (1 + (random.float() * 2 - 1) * settings.clockDrift);
    this.disk = new SimDisk((before, after) => host.invariants.durableCommit(id, before, after));
  }

  get up(): boolean {
    return this.raft !== null;
  }

  /** Boots from whatever the disk holds. */
  start(): void {
    const { live } = this.disk;
    const { host } = this;
    this.raft = new RaftNode({
      id: this.id,
      storage: live.storage,
      hardState: live.hardState,
      snapshot: live.snapshot.meta,
      options: host.settings.raft,
      random: seededRandom(host.random.int(2 ** 32)),
    });
    this.kv = KvStore.restore(live.snapshot.data);
    this.applied = live.snapshot.meta.index;
    host.invariants.started(this);
    const incarnation = this.incarnation;
    const tick = () => {
      if (incarnation !== this.incarnation) return;
      this.drive((raft) => raft.tick());
      host.queue.schedule(this.tickMs, tick);
    };
    host.queue.schedule(host.random.float() * this.tickMs, tick);
    this.drive(() => {});
  }

  /** Stops dead: unsynced writes are lost (but for a random prefix), pending requests never get an answer. */
  crash(): void {
    if (!this.raft) return;
    this.raft = null;
    this.incarnation++;
    this.syncing = false;
    this.disk.crash(this.host.random);
    this.writes = new Map();
    this.reads = new Map();
    this.waitingForApply = [];
    this.staged = new Map();
  }

  receive(message: Message, snapshotData: Uint8Array | null): void {
    if (message.type === 'install-snapshot' && snapshotData) {
      const handle = `${this.id}/${this.nextHandle++}`;
      this.staged.set(handle, snapshotData);
      message = { ...message, handle };
    }
    this.drive((raft) => raft.step(message));
  }

  reportSnapshot(to: NodeId, delivered: boolean): void {
    this.drive((raft) => raft.reportSnapshot(to, delivered));
  }

  request(request: ClientRequest, reply: Reply): void {
    this.drive((raft) => {
      if (request.kind === 'get') this.read(raft, request.key, request.consistent, reply);
      else this.write(raft, request, reply);
    });
  }

  /** Runs `action` on the core (if up), then carries out the Readys it produced. */
  drive(action: (raft: RaftNode) => void): void {
    if (!this.raft) return;
    action(this.raft);
    this.pump();
    this.host.invariants.check(this);
  }

  private read(raft: RaftNode, key: string, consistent: boolean, reply: Reply): void {
    const serve = () => reply({ kind: 'value', value: this.kv.get(key) });
    const leaseIndex = consistent ? null : raft.leaseRead();
    if (leaseIndex !== null) {
      this.host.count('lease reads');
      this.whenApplied(leaseIndex, serve);
      return;
    }
    const requestId = `${this.id}/${this.incarnation}/${this.nextHandle++}`;
    this.host.count('read-index reads');
    if (raft.readIndex(requestId)) this.reads.set(requestId, { key, reply });
    else reply({ kind: 'refused', leader: raft.leader });
  }

  private write(raft: RaftNode, request: Exclude<ClientRequest, { kind: 'get' }>, reply: Reply): void {
    const command =
      request.kind === 'put'
        ? { op: 'put' as const, key: request.key, value: request.value }
        : { op: 'cas' as const, key: request.key, expected: request.expected, value: request.value };
    const proposed = raft.propose(encodeCommand(command));
    if (proposed.ok) this.writes.set(proposed.index, { term: proposed.term, reply });
    else reply({ kind: 'refused', leader: proposed.reason === 'not-leader' ? proposed.leader : null });
  }

  private whenApplied(index: number, run: () => void): void {
    if (this.applied >= index) run();
    else this.waitingForApply.push({ index, run });
  }

  private pump(): void {
    while (this.raft && !this.syncing && this.raft.hasReady()) {
      const ready = this.raft.ready();
      if (ready.softState?.role === 'leader') this.host.count('leaders elected');
      this.host.invariants.readied(this, ready);
      // What may go ahead of the sync goes now: a crash before it completes is what the simulation tests.
      this.sendAll(ready.earlyMessages);
      if (!ready.snapshot) this.applyCommitted(ready);
      this.persist(ready);
      if (ready.mustSync) {
        this.syncing = true;
        const incarnation = this.incarnation;
        const [min, max] = this.host.settings.syncMs;
        this.host.queue.schedule(min + this.host.random.float() * (max - min), () => {
          if (incarnation !== this.incarnation) return;
          this.disk.sync();
          this.syncing = false;
          this.finish(ready);
          this.pump();
          this.host.invariants.check(this);
        });
        return;
      }
      this.finish(ready);
    }
  }

  private persist(ready: Ready): void {
    if (ready.snapshot) {
      const data = this.staged.get(ready.snapshot.handle);
      if (!data) throw new Error(`${this.id}: no staged data for snapshot ${ready.snapshot.handle}`);
      this.staged.delete(ready.snapshot.handle);
      this.disk.write({ kind: 'snapshot', meta: ready.snapshot.meta, data });
    }
    if (ready.entries.length > 0) this.disk.write({ kind: 'entries', entries: ready.entries });
    if (ready.hardState) this.disk.write({ kind: 'hard-state', state: ready.hardState });
  }

  /** Steps 2–5 of the Ready contract, once the writes are durable (or need not be). */
  private finish(ready: Ready): void {
    const raft = this.raft!;
    this.sendAll(ready.messages);
    if (ready.snapshot) {
      this.host.count('snapshots installed');
      this.kv = KvStore.restore(this.disk.live.snapshot.data);
      this.applied = ready.snapshot.meta.index;
      this.host.invariants.snapshot(this, this.applied, this.kv.digest());
      this.applyCommitted(ready);
    }
    for (const { requestId, index } of ready.readStates) {
      const read = this.reads.get(requestId);
      this.reads.delete(requestId);
      if (read) this.whenApplied(index, () => read.reply({ kind: 'value', value: this.kv.get(read.key) }));
    }
    for (const requestId of ready.abortedReads) {
      this.reads.get(requestId)?.reply({ kind: 'refused', leader: null });
      this.reads.delete(requestId);
    }
    this.serveWaitingReads();
    raft.advance();
    this.maybeSnapshot(raft);
  }

  private sendAll(messages: readonly Message[]): void {
    for (const message of messages) {
      if (message.type === 'install-snapshot') this.streamSnapshot(message);
      else this.host.send(message, null);
    }
  }

  private applyCommitted(ready: Ready): void {
    for (const entry of ready.committed) this.apply(entry);
  }

  /** Streams the snapshot a message names, if it is still kept; otherwise the stream fails at once. */
  private streamSnapshot(message: InstallSnapshot): void {
    const stored = snapshotAt(this.disk.live, message.meta.index);
    if (stored) this.host.send(message, stored.data);
    else this.host.queue.schedule(0, () => this.reportSnapshot(message.to, false));
  }

  private apply(entry: Entry): void {
    if (entry.index !== this.applied + 1) {
      throw new Error(`${this.id}: applying ${entry.index} after ${this.applied}`);
    }
    this.applied = entry.index;
    this.host.invariants.applied(this, entry);
    const pending = this.writes.get(entry.index);
    this.writes.delete(entry.index);
    if (entry.type === EntryType.membership) this.host.count('membership changes applied');
    if (entry.type !== EntryType.command) {
      pending?.reply({ kind: 'refused', leader: null });
      return;
    }
    const result = this.kv.apply(decodeCommand(entry.data));
    // Another entry took the slot of our proposal: it was overwritten and never takes effect.
    if (pending)
      pending.reply(
        pending.term === entry.term ? { kind: 'written', result } : { kind: 'refused', leader: null },
      );
  }

  private serveWaitingReads(): void {
    const ready = this.waitingForApply.filter((read) => read.index <= this.applied);
    this.waitingForApply = this.waitingForApply.filter((read) => read.index > this.applied);
    for (const read of ready) read.run();
  }

  private maybeSnapshot(raft: RaftNode): void {
    const { snapshotEvery, keepTrailing } = this.host.settings;
    if (this.applied - this.disk.live.snapshot.meta.index < snapshotEvery) return;
    this.host.count('snapshots taken');
    this.host.invariants.snapshot(this, this.applied, this.kv.digest());
    const meta = raft.snapshotMetaAt(this.applied);
    this.disk.saveSnapshot(meta, this.kv.serialize(), this.applied - keepTrailing);
    raft.snapshotSaved(meta);
  }
}
