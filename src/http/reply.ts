import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringifyJson } from '../util/json.ts';
import { has, queryOf } from './query.ts';

/** Sends Consul-style JSON: `application/json`, indented by four spaces with `?pretty`, as Go's MarshalIndent. */
export function sendJson(req: FastifyRequest, reply: FastifyReply, value: unknown): FastifyReply {
  const pretty = has(queryOf(req), 'pretty');
  const body = stringifyJson(value, pretty ? 4 : undefined);
  return reply.type('application/json').send(pretty ? `${body}\n` : body);
}
