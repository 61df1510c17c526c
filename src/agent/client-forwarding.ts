import type { FastifyInstance } from 'fastify';
import { HOP_BY_HOP } from '../http/hop-headers.ts';
import type { Applier } from '../state/applier.ts';
import { decodeValue, encodeValue } from '../state/codec.ts';
import type { Command } from '../state/commands.ts';
import { StateError } from '../state/errors.ts';

// What client agents ask servers over RPC: writes of their local services and checks (Client.Apply), every
// HTTP request that is not about the agent itself (Http.Forward), which the server answers through its own
// HTTP routes, blocking queries and all, as Consul's clients forward their RPCs to servers, and DNS
// messages (Dns.Query), answered by the server's DNS.

export const ClientMethod = { apply: 'Client.Apply', http: 'Http.Forward', dns: 'Dns.Query' } as const;

export interface ForwardedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

export interface ForwardedResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export type ApplyReply = { ok: true; value: Uint8Array } | { ok: false; error: string };

export class ForwardingWireError extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function stringHeaders(value: unknown): Record<string, string> {
  if (!isRecord(value)) throw new ForwardingWireError('headers must be a map');
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === 'string' && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = v;
  }
  return out;
}

export function checkForwardedRequest(body: unknown): ForwardedRequest {
  if (
    !isRecord(body) ||
    typeof body.method !== 'string' ||
    typeof body.url !== 'string' ||
    !body.url.startsWith('/')
  ) {
    throw new ForwardingWireError('a forwarded request needs a method and a path');
  }
  const payload = body.body;
  if (payload !== null && !(payload instanceof Uint8Array))
    throw new ForwardingWireError('body must be bytes');
  return { method: body.method, url: body.url, headers: stringHeaders(body.headers), body: payload };
}

export function checkForwardedResponse(body: unknown): ForwardedResponse {
  if (!isRecord(body) || typeof body.status !== 'number' || !(body.body instanceof Uint8Array)) {
    throw new ForwardingWireError('a forwarded response is malformed');
  }
  return { status: body.status, headers: stringHeaders(body.headers), body: body.body };
}

/** The server's side: answer forwarded HTTP requests through `app`, and apply clients' commands. */
export function serveClients(
  handle: (method: string, handler: (body: unknown) => Promise<unknown>) => void,
  app: FastifyInstance,
  applier: Applier,
): void {
  handle(ClientMethod.http, async (body) => {
    const request = checkForwardedRequest(body);
    const response = await app.inject({
      method: request.method as 'GET',
      url: request.url,
      headers: request.headers,
      ...(request.body ? { payload: Buffer.from(request.body) } : {}),
    });
    return {
      status: response.statusCode,
      headers: stringHeaders(
        Object.fromEntries(
          Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
        ),
      ),
      body: new Uint8Array(response.rawPayload),
    } satisfies ForwardedResponse;
  });
  handle(ClientMethod.apply, async (body): Promise<ApplyReply> => {
    if (!isRecord(body) || !(body.command instanceof Uint8Array)) throw new ForwardingWireError('no command');
    try {
      const value = await applier.apply(decodeValue(body.command) as Command);
      return { ok: true, value: encodeValue(value) };
    } catch (err) {
      if (err instanceof StateError) return { ok: false, error: err.message };
      throw err;
    }
  });
}

/** The server's side of Dns.Query: the reply its DNS would send, or null for none. */
export function serveClientDns(
  handle: (method: string, handler: (body: unknown) => Promise<unknown>) => void,
  answer: (packet: Buffer, transport: 'udp' | 'tcp') => Promise<Buffer | undefined>,
): void {
  handle(ClientMethod.dns, async (body) => {
    if (
      !isRecord(body) ||
      !(body.packet instanceof Uint8Array) ||
      (body.transport !== 'udp' && body.transport !== 'tcp')
    ) {
      throw new ForwardingWireError('a DNS message needs its bytes and transport');
    }
    const reply = await answer(Buffer.from(body.packet), body.transport);
    return reply ? new Uint8Array(reply) : null;
  });
}
