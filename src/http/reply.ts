import type { FastifyReply, FastifyRequest } from 'fastify';
import { has, queryOf } from './query.ts';

/** Sends Consul-style JSON: `application/json`, indented by four spaces with `?pretty`, as Go's MarshalIndent. */
export function sendJson(req: FastifyRequest, reply: FastifyReply, value: unknown): FastifyReply {
  const pretty = has(queryOf(req), 'pretty');
  const body = pretty ? `${JSON.stringify(value, null, 4)}\n` : JSON.stringify(value);
  return reply.type('application/json').send(body);
}
