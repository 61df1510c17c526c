import { type ApiClient, pathEscape, type Query } from '../api/client.ts';
import { eventIndex } from '../util/event-index.ts';
import { HealthCheck, KVPair, Node, ServiceEntry, UserEvent } from './api-structs.ts';
import { type GoType, type GoValue, goString, mapOf, ptrTo, sliceOf, toGo } from './go-json.ts';
import { type Params, WatchParseError } from './params.ts';

// The watch types of Consul's api/watch (funcs.go): for each, the parameters it takes, the endpoint it blocks
// on and the Go value its handler receives.

export interface FetchContext {
  client: ApiClient;
  /** The index of the previous answer, or undefined before the first (and the index to block past). */
  last: bigint | undefined;
  /** The index to send: `last`, or 0 after an error or when the index went backwards. */
  waitIndex: bigint;
  signal: AbortSignal;
}

export interface WatchAnswer {
  index: bigint;
  result: GoValue;
}

export interface WatchQuery {
  /** Raft indexes only grow unless state was restored; event indexes come from random IDs. */
  ordered: boolean;
  fetch(ctx: FetchContext): Promise<WatchAnswer>;
}

type Factory = (params: Params) => WatchQuery;

export const WATCH_TYPES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  ['key', keyWatch],
  ['keyprefix', keyPrefixWatch],
  ['services', servicesWatch],
  ['nodes', nodesWatch],
  ['service', serviceWatch],
  ['checks', checksWatch],
  ['event', eventWatch],
]);

function keyWatch(params: Params): WatchQuery {
  const stale = params.bool('stale');
  const key = params.string('key');
  if (key === '') throw new WatchParseError('Must specify a single key to watch');
  return indexed(`/v1/kv/${pathEscape(key)}`, { stale }, ptrTo(KVPair), (pairs) =>
    Array.isArray(pairs) ? pairs[0] : undefined,
  );
}

function keyPrefixWatch(params: Params): WatchQuery {
  const stale = params.bool('stale');
  const prefix = params.string('prefix');
  if (prefix === '') throw new WatchParseError('Must specify a single prefix to watch');
  const filter = params.string('filter');
  return indexed(`/v1/kv/${pathEscape(prefix)}`, { stale, recurse: true, filter }, sliceOf(ptrTo(KVPair)));
}

function servicesWatch(params: Params): WatchQuery {
  const query = { stale: params.bool('stale'), filter: params.string('filter') };
  return indexed('/v1/catalog/services', query, mapOf(sliceOf(goString)), required);
}

function nodesWatch(params: Params): WatchQuery {
  const query = { stale: params.bool('stale'), filter: params.string('filter') };
  return indexed('/v1/catalog/nodes', query, sliceOf(ptrTo(Node)), required);
}

function serviceWatch(params: Params): WatchQuery {
  const stale = params.bool('stale');
  const service = params.string('service');
  if (service === '') throw new WatchParseError('Must specify a single service to watch');
  const tag = params.strings('tag');
  // The Go client sends ?passing=1 only when asked for passing instances.
  const passing = params.bool('passingonly') ? '1' : undefined;
  const filter = params.string('filter');
  const query = { stale, tag, passing, filter };
  return indexed(`/v1/health/service/${pathEscape(service)}`, query, sliceOf(ptrTo(ServiceEntry)), required);
}

function checksWatch(params: Params): WatchQuery {
  const stale = params.bool('stale');
  const service = params.string('service');
  let state = params.string('state');
  if (service !== '' && state !== '') throw new WatchParseError('Cannot specify service and state');
  if (service === '' && state === '') state = 'any';
  const filter = params.string('filter');
  const path =
    state !== '' ? `/v1/health/state/${pathEscape(state)}` : `/v1/health/checks/${pathEscape(service)}`;
  return indexed(path, { stale, filter }, sliceOf(ptrTo(HealthCheck)), required);
}

/**
 * Events carry an index made from the last one's ID. Each answer holds the agent's recent events, so the
 * handler gets those after the one the previous answer ended with, as Consul prunes them.
 */
function eventWatch(params: Params): WatchQuery {
  const name = params.string('name');
  const type = sliceOf(ptrTo(UserEvent));
  return {
    ordered: false,
    async fetch({ client, last, waitIndex, signal }) {
      const { value, index } = await client.read('/v1/event/list', blocking({ name }, waitIndex), signal);
      let events = required(value) as { ID?: unknown }[];
      const seen = events.findIndex((e) => typeof e.ID === 'string' && eventIndex(e.ID) === last);
      if (seen !== -1) events = events.slice(seen + 1);
      return { index, result: toGo(type, events) };
    },
  };
}

/** A watch on a Raft-indexed read: the answer's index, and its body as `type` (after `pick`). */
function indexed(
  path: string,
  query: Query,
  type: GoType,
  pick: (value: unknown) => unknown = (value) => value,
): WatchQuery {
  return {
    ordered: true,
    async fetch({ client, waitIndex, signal }) {
      const { value, index } = await client.read(path, blocking(query, waitIndex), signal);
      return { index, result: toGo(type, pick(value)) };
    },
  };
}

function blocking(query: Query, index: bigint): Query {
  return index > 0n ? { ...query, index } : query;
}

/** Only KV reads treat a 404 as an answer; anywhere else it is an error, as in Consul's Go client. */
function required(value: unknown): unknown {
  if (value === undefined) throw new Error('Unexpected response code: 404');
  return value;
}
