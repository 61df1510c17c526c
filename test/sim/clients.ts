import type { Random } from '../../src/raft/core/prng.ts';
import type { NodeId } from '../../src/raft/core/types.ts';
import type { EventQueue } from './event-queue.ts';
import type { ClientReply, ClientRequest, HistoryEntry, KvOperation } from './history.ts';

export interface ClientHost {
  readonly queue: EventQueue;
  serverIds(): NodeId[];
  /** Sends `request` to server `to`; `reply` is called at most once, never if the server crashes first. */
  request(to: NodeId, request: ClientRequest, reply: (answer: ClientReply) => void): void;
}

export interface WorkloadOptions {
  keys: string[];
  /** A request unanswered after this many ms has an unknown outcome; the client moves on. */
  timeoutMs: number;
  /** Longest pause between a client's operations, in ms. */
  thinkMs: number;
}

/**
 * Sends one operation and records it in `history` once settled: answered (completed), refused (left out: it
 * had no effect) or unanswered after `timeoutMs` (a write's outcome is then unknown; a read is left out).
 * `settled` gets the answer, or null on timeout. Returns a function that times the operation out at once.
 */
export function performOperation(
  host: ClientHost,
  history: HistoryEntry[],
  client: number,
  target: NodeId,
  request: ClientRequest,
  timeoutMs: number,
  settled: (answer: ClientReply | null) => void,
): () => void {
  const { queue } = host;
  const invoke = queue.now;
  let done = false;
  const settle = (answer: ClientReply | null, entry: HistoryEntry | null) => {
    if (done) return;
    done = true;
    if (entry) history.push(entry);
    settled(answer);
  };
  const timeOut = () => {
    const entry =
      request.kind === 'get'
        ? null
        : { client, key: request.key, op: pendingOp(request), invoke, complete: null };
    settle(null, entry);
  };
  queue.schedule(timeoutMs, timeOut);
  host.request(target, request, (answer) => {
    if (answer.kind === 'refused') settle(answer, null);
    else
      settle(answer, {
        client,
        key: request.key,
        op: completedOp(request, answer),
        invoke,
        complete: queue.now,
      });
  });
  return timeOut;
}

/**
 * A client issuing one operation at a time: puts of unique values, compare-and-sets against the last value it
 * saw, and reads (by lease or ReadIndex). A refused operation is retried as a new one, at the leader named.
 */
export class Client {
  private seq = 0;
  private leaderHint: NodeId | null = null;
  private running = false;
  private readonly lastSeen = new Map<string, string | null>();
  /** Times out the operation in flight, if any. */
  private timeOut: (() => void) | null = null;

  constructor(
    readonly id: number,
    private readonly host: ClientHost,
    private readonly random: Random,
    private readonly options: WorkloadOptions,
    private readonly history: HistoryEntry[],
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.next();
  }

  stop(): void {
    this.running = false;
  }

  /** Ends the history: an operation still waiting for its answer counts as timed out. */
  abandon(): void {
    this.running = false;
    this.timeOut?.();
  }

  private next(): void {
    if (!this.running) return;
    const { keys } = this.options;
    const key = keys[this.random.int(keys.length)]!;
    const value = `c${this.id}.${++this.seq}`;
    const roll = this.random.float();
    const request: ClientRequest =
      roll < 0.35
        ? { kind: 'put', key, value }
        : roll < 0.55
          ? { kind: 'cas', key, expected: this.lastSeen.get(key) ?? null, value }
          : { kind: 'get', key, consistent: this.random.float() < 0.5 };
    const servers = this.host.serverIds();
    // Mostly follow the leader hint, but sometimes ask anyone: stale leaders get asked too.
    const target =
      this.leaderHint && servers.includes(this.leaderHint) && this.random.float() < 0.8
        ? this.leaderHint
        : servers[this.random.int(servers.length)]!;
    this.timeOut = performOperation(
      this.host,
      this.history,
      this.id,
      target,
      request,
      this.options.timeoutMs,
      (answer) => {
        this.timeOut = null;
        this.learn(request, answer);
        if (this.running)
          this.host.queue.schedule(this.random.float() * this.options.thinkMs, () => this.next());
      },
    );
  }

  private learn(request: ClientRequest, answer: ClientReply | null): void {
    if (answer === null) this.leaderHint = null;
    else if (answer.kind === 'refused') this.leaderHint = answer.leader;
    else if (answer.kind === 'value') this.lastSeen.set(request.key, answer.value);
    else if (answer.result.ok && request.kind !== 'get') this.lastSeen.set(request.key, request.value);
    else if (!answer.result.ok) this.lastSeen.set(request.key, answer.result.current);
  }
}

function pendingOp(request: Exclude<ClientRequest, { kind: 'get' }>): KvOperation {
  return request.kind === 'put'
    ? { kind: 'put', value: request.value }
    : { kind: 'cas', expected: request.expected, value: request.value, result: null };
}

function completedOp(request: ClientRequest, answer: Exclude<ClientReply, { kind: 'refused' }>): KvOperation {
  if (request.kind === 'get') {
    if (answer.kind !== 'value') throw new Error('a read was answered with a write result');
    return { kind: 'get', result: answer.value };
  }
  if (answer.kind !== 'written') throw new Error('a write was answered with a value');
  if (request.kind === 'put') return { kind: 'put', value: request.value };
  return { kind: 'cas', expected: request.expected, value: request.value, result: answer.result };
}
