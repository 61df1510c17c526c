import type { FastifyRequest } from 'fastify';
import { DurationError, parseDuration } from '../util/duration.ts';
import { parseGoBool } from '../util/go-bool.ts';
import { badRequest, HttpError } from './errors.ts';

// Query-string parameters as Consul reads them: a flag counts when present, even without a value (`?recurse`).

export type Query = Record<string, string | string[] | undefined>;

export function queryOf(req: FastifyRequest): Query {
  return (req.query ?? {}) as Query;
}

/** The last value of a parameter (Go's url.Values.Get takes the first; clients never repeat these). */
export function param(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

export function params(query: Query, name: string): string[] {
  const value = query[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function has(query: Query, name: string): boolean {
  return query[name] !== undefined;
}

/** `?passing`, `?passing=true` and `?passing=1` are true; `?passing=false` is false (Go's ParseBool). */
export function flag(query: Query, name: string): boolean {
  const value = param(query, name);
  if (value === undefined) return false;
  if (value === '') return true;
  const parsed = parseGoBool(value);
  if (parsed === undefined) throw badRequest(`Invalid value for ?${name}: ${value}`);
  return parsed;
}

export function unsignedParam(query: Query, name: string, message: string): number | undefined {
  const value = param(query, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw badRequest(message);
  return Number(value);
}

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A Go uint64 from the query string: a number while exact, a bigint beyond 2^53. Consul hands these to
 * strconv.ParseUint and returns its error unchanged, which its HTTP layer answers as a 500.
 */
export function uint64Param(query: Query, name: string): number | bigint | undefined {
  const value = param(query, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw parseUintError(value, 'invalid syntax');
  const big = BigInt(value);
  if (big > UINT64_MAX) throw parseUintError(value, 'value out of range');
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

const parseUintError = (value: string, reason: string) =>
  new HttpError(500, `strconv.ParseUint: parsing ${JSON.stringify(value)}: ${reason}`);

export function durationParam(query: Query, name: string, message: string): number | undefined {
  const value = param(query, name);
  if (value === undefined) return undefined;
  try {
    const ns = parseDuration(value);
    if (ns < 0) throw badRequest(message);
    return ns;
  } catch (err) {
    if (err instanceof DurationError) throw badRequest(message);
    throw err;
  }
}
