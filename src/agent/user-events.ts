import { randomUUID } from 'node:crypto';
import { bytes, int, StructReader, str, writeStruct } from '../gossip/wire/fields.ts';
import { decodeValue, GoMsgpackWriter } from '../gossip/wire/go-msgpack.ts';
import type { ServiceInput } from '../state/commands.ts';

// Consul's user events (/v1/event/fire, /v1/event/list, `consul event`): a msgpack UserEvent gossiped as a
// serf user event named "consul:event:<name>"; every agent keeps the last 256 that pass its filters.

export const CONSUL_EVENT_PREFIX = 'consul:event:';
const USER_EVENT_VERSION = 1;
const BUFFER_SIZE = 256;

export interface UserEvent {
  ID: string;
  Name: string;
  Payload: Uint8Array | null;
  NodeFilter: string;
  ServiceFilter: string;
  TagFilter: string;
  Version: number;
  LTime: number;
}

export class UserEventError extends Error {}

/** A new event with a fresh ID, after Consul's checks of its parameters. */
export function newUserEvent(params: Omit<UserEvent, 'ID' | 'Version' | 'LTime'>): UserEvent {
  if (!params.Name) throw new UserEventError('User event missing name');
  if (params.TagFilter && !params.ServiceFilter) {
    throw new UserEventError('Cannot provide tag filter without service filter');
  }
  for (const [what, pattern] of [
    ['node', params.NodeFilter],
    ['service', params.ServiceFilter],
    ['tag', params.TagFilter],
  ] as const) {
    try {
      if (pattern) new RegExp(pattern);
    } catch (err) {
      throw new UserEventError(`Invalid ${what} filter: ${(err as Error).message}`);
    }
  }
  return { ...params, ID: randomUUID(), Version: USER_EVENT_VERSION, LTime: 0 };
}

/** The gossip payload, with Consul's short msgpack field names. */
export function encodeUserEvent(event: UserEvent): Uint8Array {
  const w = new GoMsgpackWriter();
  writeStruct(w, 'UserEvent', {
    ID: str(event.ID),
    n: str(event.Name),
    p: event.Payload?.length ? bytes(event.Payload) : undefined,
    nf: event.NodeFilter ? str(event.NodeFilter) : undefined,
    sf: event.ServiceFilter ? str(event.ServiceFilter) : undefined,
    tf: event.TagFilter ? str(event.TagFilter) : undefined,
    v: int(event.Version),
  });
  return w.bytes();
}

export function decodeUserEvent(payload: Uint8Array, ltime: number): UserEvent {
  const r = new StructReader('UserEvent', decodeValue(payload));
  const optional = (field: string) => (r.get(field) === undefined ? '' : r.string(field, 4096));
  const body = r.get('p') === undefined ? null : r.bytes('p');
  return {
    ID: r.string('ID'),
    Name: r.string('n'),
    Payload: body,
    NodeFilter: optional('nf'),
    ServiceFilter: optional('sf'),
    TagFilter: optional('tf'),
    Version: r.int('v'),
    LTime: ltime,
  };
}

/** Whether this agent should take the event: its node name and services against the event's filters. */
export function passesFilters(event: UserEvent, nodeName: string, services: ServiceInput[]): boolean {
  try {
    if (event.NodeFilter && !new RegExp(event.NodeFilter).test(nodeName)) return false;
    if (!event.ServiceFilter) return true;
    const serviceRe = new RegExp(event.ServiceFilter);
    const tagRe = event.TagFilter ? new RegExp(event.TagFilter) : undefined;
    return services.some(
      (s) => serviceRe.test(s.Service) && (!tagRe || s.Tags.some((tag) => tagRe.test(tag))),
    );
  } catch {
    return false;
  }
}

/** The last events this agent took, oldest first, with a signal for blocked lists. */
export class EventBuffer {
  private readonly events: UserEvent[] = [];
  private waiters = new Set<() => void>();

  add(event: UserEvent): void {
    this.events.push(event);
    if (this.events.length > BUFFER_SIZE) this.events.shift();
    const woken = this.waiters;
    this.waiters = new Set();
    for (const wake of woken) wake();
  }

  list(): UserEvent[] {
    return [...this.events];
  }

  /** Resolves on the next event, or after `timeoutMs`, or when `signal` aborts. */
  next(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
