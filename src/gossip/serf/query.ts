import {
  decodeSerfFilter,
  encodeSerfFilter,
  type SerfQuery,
  SerfQueryFlag,
  type SerfQueryResponse,
} from '../wire/serf-messages.ts';

// serf's queries: a request gossiped to every member (or those its filters pick), each answering directly to
// the sender by UDP before the query's deadline. What lives here is the bookkeeping around them, pure and
// time-free: the default timeout, the buffer that de-duplicates queries by their Lamport time and ID, the
// filters, and the collector of acks and responses on the sending side. serf.ts sends and receives.

/** What a caller may set on a query (serf's QueryParam). */
export interface QueryParams {
  /** Only these nodes answer. */
  filterNodes?: readonly string[];
  /** Only nodes whose tag matches the regular expression answer, for each tag named. */
  filterTags?: Readonly<Record<string, string>>;
  /** Every node that processes the query acks it (before its own answer, if any). */
  requestAck?: boolean;
  /** Each answer is also relayed through this many other members, in case the direct path fails (0–5). */
  relayFactor?: number;
  /** How long the query stays open; serf's default (defaultQueryTimeoutMs) when 0 or absent. */
  timeoutMs?: number;
}

/**
 * serf's DefaultQueryTimeout: GossipInterval × QueryTimeoutMult × ceil(log10(N + 1)), N the members memberlist
 * counts alive (this node included), so a query lasts about as long as gossip takes to reach everyone.
 */
export function defaultQueryTimeoutMs(
  gossipIntervalMs: number,
  numMembers: number,
  timeoutMult: number,
): number {
  return gossipIntervalMs * timeoutMult * Math.ceil(Math.log10(numMembers + 1));
}

/** The wire form of the params' filters: the node filter first, then one filter per tag. */
export function encodeQueryFilters(params: QueryParams): Uint8Array[] {
  const filters: Uint8Array[] = [];
  if (params.filterNodes && params.filterNodes.length > 0) {
    filters.push(encodeSerfFilter({ type: 'node', nodes: [...params.filterNodes] }));
  }
  for (const [tag, expr] of Object.entries(params.filterTags ?? {})) {
    filters.push(encodeSerfFilter({ type: 'tag', tag, expr }));
  }
  return filters;
}

/**
 * serf's shouldProcessQuery: every filter must pass. A node filter must name this node; a tag filter's
 * expression must match this node's tag (unanchored, as Go's regexp.MatchString). A filter that does not
 * decode, an expression that does not compile, or an unknown filter type fails the query here.
 */
export function shouldProcessQuery(
  filters: readonly Uint8Array[],
  nodeName: string,
  tags: Readonly<Record<string, string>>,
): boolean {
  for (const bytes of filters) {
    let filter: ReturnType<typeof decodeSerfFilter>;
    try {
      filter = decodeSerfFilter(bytes);
    } catch {
      return false;
    }
    if (filter.type === 'node') {
      if (!filter.nodes.includes(nodeName)) return false;
      continue;
    }
    let expr: RegExp;
    try {
      expr = new RegExp(filter.expr);
    } catch {
      return false;
    }
    if (!expr.test(tags[filter.tag] ?? '')) return false;
  }
  return true;
}

/**
 * serf's query buffer: the IDs of the queries seen, by query time, in a ring of `size` slots. A query older
 * than the ring reaches is refused, as is one whose time and ID were seen; anything else is recorded.
 */
export class QueryBuffer {
  private readonly slots: ({ ltime: number; ids: number[] } | undefined)[];

  constructor(readonly size: number) {
    this.slots = new Array(size);
  }

  /** Records the query; false when it is too old or already seen. `clock` is the query clock's time now. */
  record(ltime: number, id: number, clock: number): boolean {
    if (clock > this.size && ltime < clock - this.size) return false;
    const index = ltime % this.size;
    let slot = this.slots[index];
    if (slot && slot.ltime === ltime) {
      if (slot.ids.includes(id)) return false;
    } else {
      slot = { ltime, ids: [] };
      this.slots[index] = slot;
    }
    slot.ids.push(id);
    return true;
  }
}

/** One node's answer to a query. */
export interface NodeResponse {
  from: string;
  payload: Uint8Array;
}

/** What a query gathered: who acked (when acks were asked for) and who answered what, in arrival order. */
export interface QueryResult {
  acks: string[];
  responses: NodeResponse[];
}

/**
 * The sending side of one query (serf's QueryResponse): acks and responses are taken once per node, until the
 * deadline or until the query is closed.
 */
export class RunningQuery {
  readonly ltime: number;
  readonly id: number;
  readonly wantsAcks: boolean;
  readonly acks: string[] = [];
  readonly responses: NodeResponse[] = [];
  /** Called after each ack or response taken. */
  listener: (() => void) | undefined;
  private closed = false;
  private readonly ackFrom = new Set<string>();
  private readonly responseFrom = new Set<string>();

  constructor(
    query: Pick<SerfQuery, 'LTime' | 'ID' | 'Flags'>,
    /** When the query closes, on the caller's clock (ms). */
    readonly deadline: number,
  ) {
    this.ltime = query.LTime;
    this.id = query.ID;
    this.wantsAcks = (query.Flags & SerfQueryFlag.ack) !== 0;
  }

  finished(now: number): boolean {
    return this.closed || now > this.deadline;
  }

  close(): void {
    this.closed = true;
  }

  result(): QueryResult {
    return { acks: [...this.acks], responses: [...this.responses] };
  }

  /**
   * Takes an ack or a response (serf's handleQueryResponse after the query was found by its time); false when
   * the ID is another query's, the query is over, or the node already acked or answered.
   */
  take(response: SerfQueryResponse, now: number): boolean {
    if (response.ID !== this.id || this.finished(now)) return false;
    if ((response.Flags & SerfQueryFlag.ack) !== 0) {
      // serf keeps no ack channel when acks were not asked for: the ack is dropped.
      if (!this.wantsAcks || this.ackFrom.has(response.From)) return false;
      this.ackFrom.add(response.From);
      this.acks.push(response.From);
    } else {
      if (this.responseFrom.has(response.From)) return false;
      this.responseFrom.add(response.From);
      this.responses.push({ from: response.From, payload: response.Payload });
    }
    this.listener?.();
    return true;
  }
}

/** A query this node received and processes, with the means to answer it once before its deadline. */
export interface IncomingQuery {
  ltime: number;
  id: number;
  name: string;
  payload: Uint8Array;
  /** The sender's node name, as the query carries it. */
  sourceNode: string;
  /** Whether `payload` as this node's answer stays within the response size limit. */
  fits(payload: Uint8Array): boolean;
  /**
   * Answers the sender (and relays) at `now` (the time the query arrived when absent); throws serf's error
   * when the answer is too large, too late or a second one.
   */
  respond(payload: Uint8Array, now?: number): void;
}

/** Go's net.IP may hold an IPv4 address in 16 bytes (::ffff:a.b.c.d); sockets want the 4-byte form. */
export function normalizeIp(addr: Uint8Array): Uint8Array {
  if (addr.length !== 16) return addr;
  for (let i = 0; i < 10; i++) if (addr[i] !== 0) return addr;
  if (addr[10] !== 0xff || addr[11] !== 0xff) return addr;
  return addr.slice(12);
}

export function sameAddress(a: Uint8Array, b: Uint8Array): boolean {
  const x = normalizeIp(a);
  const y = normalizeIp(b);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}
