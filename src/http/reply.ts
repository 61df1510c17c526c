import type { FastifyReply, FastifyRequest } from 'fastify';
import { has, queryOf } from './query.ts';

/** Sends Consul-style JSON: `application/json`, indented by four spaces with `?pretty`, as Go's MarshalIndent. */
export function sendJson(req: FastifyRequest, reply: FastifyReply, value: unknown): FastifyReply {
  const pretty = has(queryOf(req), 'pretty');
  const body = stringify(value, pretty ? 4 : undefined);
  return reply.type('application/json').send(pretty ? `${body}\n` : body);
}

const BIGINT_MARK = '\u0000uint64:';

/** JSON.stringify that writes bigints (KV Flags past 2^53) as exact integers, as Go writes a uint64. */
function stringify(value: unknown, indent: number | undefined): string {
  let sawBigint = false;
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => {
      if (typeof item !== 'bigint') return item;
      sawBigint = true;
      return `${BIGINT_MARK}${item}`;
    },
    indent,
  );
  return sawBigint ? text.replace(/"\\u0000uint64:(\d+)"/g, '$1') : text;
}
