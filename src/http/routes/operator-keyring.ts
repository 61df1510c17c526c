import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseGoBool } from '../../util/go-bool.ts';
import { decodeBody } from '../body.ts';
import type { HttpContext, KeyringOp, KeyringPoolResponse } from '../context.ts';
import { badRequest, HttpError } from '../errors.ts';
import { param, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';

// /v1/operator/keyring: the gossip encryption keys of every member, through serf's key queries. GET lists
// them per pool (WAN first on servers, then the LAN), POST installs a key, PUT makes an installed key the
// primary one, DELETE removes a key. A pool where any member failed or did not answer turns the request
// into a 500 with Consul's multi-error text, which names the pool and what each failing member said.

/** Consul's keyringArgs: the body of POST, PUT and DELETE. */
const keyringBody = z.object({
  Key: z.string().default(''),
  RelayFactor: z.number().int().min(0).max(255).default(0),
});

export function operatorKeyringRoutes(ctx: HttpContext): Routes {
  const handle = (op: KeyringOp) => async (req: FastifyRequest, reply: FastifyReply) => {
    // As in Consul: the body first, then the query string.
    const body = op === 'list' ? keyringBody.parse({}) : decodeBody(req, keyringBody);
    const query = queryOf(req);
    const relayFactor = relayFactorParam(param(query, 'relay-factor')) ?? body.RelayFactor;
    // Consul hands local-only on for lists only.
    const localOnly = (localOnlyParam(param(query, 'local-only'), op === 'list') ?? false) && op === 'list';
    const keyring = ctx.agent.keyring;
    if (!keyring) throw new HttpError(500, 'keyring operations must run against a server node');
    let responses: KeyringPoolResponse[];
    try {
      responses = await keyring.run(op, body.Key, { relayFactor, localOnly });
    } catch (err) {
      throw new HttpError(500, (err as Error).message);
    }
    const errors = keyringErrors(responses);
    if (errors !== undefined) throw new HttpError(500, errors);
    if (op !== 'list') return reply.send();
    return sendJson(req, reply, responses.map(keyringJson));
  };
  return {
    '/v1/operator/keyring': {
      GET: handle('list'),
      POST: handle('install'),
      PUT: handle('use'),
      DELETE: handle('remove'),
    },
  };
}

/** ?relay-factor: Go's strconv.Atoi, then Consul's range [0, 5]. */
function relayFactorParam(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[+-]?\d+$/.test(raw)) {
    throw badRequest(
      `Error parsing relay factor: strconv.Atoi: parsing ${JSON.stringify(raw)}: invalid syntax`,
    );
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63) {
    throw badRequest(
      `Error parsing relay factor: strconv.Atoi: parsing ${JSON.stringify(raw)}: value out of range`,
    );
  }
  if (n < 0 || n > 5) throw badRequest('Invalid relay-factor: Relay factor must be in range: [0, 5]');
  return n;
}

/** ?local-only: Go's strconv.ParseBool, and only for a list. */
function localOnlyParam(raw: string | undefined, list: boolean): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = parseGoBool(raw);
  if (value === undefined) {
    throw badRequest(
      `Error parsing local-only: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`,
    );
  }
  if (value && !list) {
    throw badRequest('Invalid use of local-only: local-only can only be set for list requests');
  }
  return value;
}

/** Go's encoding/json writes map keys sorted. */
const sorted = <T>(map: Record<string, T>) =>
  Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Consul's KeyringResponse as JSON: Messages and Error are omitted when empty. */
function keyringJson(response: KeyringPoolResponse): Record<string, unknown> {
  return {
    WAN: response.WAN,
    Datacenter: response.Datacenter,
    Segment: response.Segment,
    ...(Object.keys(response.Messages).length > 0 ? { Messages: sorted(response.Messages) } : {}),
    Keys: sorted(response.Keys),
    PrimaryKeys: sorted(response.PrimaryKeys),
    NumNodes: response.NumNodes,
    ...(response.Error !== '' ? { Error: response.Error } : {}),
  };
}

/**
 * Consul's keyringErrorsOrNil: for each pool that failed, "<pool> error: <serf's error>" and then what each
 * member said, in hashicorp/go-multierror's list format.
 */
export function keyringErrors(responses: readonly KeyringPoolResponse[]): string | undefined {
  const errors: string[] = [];
  for (const response of responses) {
    if (response.Error === '') continue;
    let pool = response.WAN ? 'WAN' : `${response.Datacenter} (LAN)`;
    if (response.Segment !== '') pool += ` [segment: ${response.Segment}]`;
    errors.push(`${pool} error: ${response.Error}`);
    for (const [node, message] of Object.entries(sorted(response.Messages)))
      errors.push(`${node}: ${message}`);
  }
  if (errors.length === 0) return undefined;
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}\n\n`;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n\n`;
}
