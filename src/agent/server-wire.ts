import type { SessionRow } from '../state/types.ts';
import type { ServerIdentity } from './server-join.ts';

// Checks of what other servers send on the agent's own RPC methods: outside input, checked before use.

export class ServerWireError extends Error {
  override name = 'ServerWireError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const shortText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

export function checkServerIdentity(body: unknown): ServerIdentity {
  if (isRecord(body) && shortText(body.id) && shortText(body.address)) {
    return { id: body.id, address: body.address };
  }
  throw new ServerWireError('a server identity needs an id and an address');
}

export function checkSessionId(body: unknown): string {
  if (isRecord(body) && shortText(body.id)) return body.id;
  throw new ServerWireError('a session renewal needs the session id');
}

/** The leader's answer to a renewal: the session row, or null when there is no such session. */
export function checkRenewed(value: unknown): SessionRow | undefined {
  if (value === null) return undefined;
  if (isRecord(value) && typeof value.ID === 'string' && typeof value.Node === 'string') {
    return value as unknown as SessionRow;
  }
  throw new ServerWireError('a renewed session is malformed');
}
