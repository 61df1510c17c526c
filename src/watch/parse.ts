import { DurationError, parseDuration, SECOND } from '../util/duration.ts';
import { Params, WatchParseError } from './params.ts';
import { WATCH_TYPES, type WatchQuery } from './types.ts';

// Consul's watch.ParseExempt: a watch definition (the CLI's flags or an agent config entry) checked and
// compiled into what to query and how to hand results on, with Consul's error messages.

/** Consul's watch.DefaultTimeout, for HTTP handlers without a timeout. */
export const DEFAULT_HTTP_HANDLER_TIMEOUT_MS = (10 * SECOND) / 1e6;

export interface HttpHandlerConfig {
  path: string;
  method: string;
  header: Record<string, string[]>;
  timeoutMs: number;
  tlsSkipVerify: boolean;
}

export interface WatchSpec {
  type: string;
  datacenter: string;
  token: string;
  /** '' (none given), 'script' or 'http'. */
  handlerType: string;
  httpHandler: HttpHandlerConfig | undefined;
  /** Parameters set aside for the caller (the agent's `args`, `handler`). */
  exempt: Record<string, unknown>;
  query: WatchQuery;
}

export function parseWatch(params: Record<string, unknown>, exempt: readonly string[] = []): WatchSpec {
  const p = new Params(params);
  const datacenter = p.string('datacenter');
  const token = p.string('token');
  const type = p.string('type');
  if (type === '') throw new WatchParseError('Watch type must be specified');
  const handlerType = p.string('handler_type');
  let httpHandler: HttpHandlerConfig | undefined;
  if (handlerType === 'http') {
    if (!p.has('http_handler_config')) {
      throw new WatchParseError("Handler type 'http' requires 'http_handler_config' to be set");
    }
    httpHandler = parseHttpHandlerConfig(p.take('http_handler_config'));
  }
  const factory = WATCH_TYPES.get(type);
  if (!factory) throw new WatchParseError(`Unsupported watch type: ${type}`);
  const query = factory(p);
  const set: Record<string, unknown> = {};
  for (const name of exempt) if (p.has(name)) set[name] = p.take(name);
  p.checkAllTaken();
  return { type, datacenter, token, handlerType, httpHandler, exempt: set, query };
}

/** `http_handler_config`: path required, method POST by default, header values as lists, a Go duration. */
function parseHttpHandlerConfig(raw: unknown): HttpHandlerConfig {
  const fail = (reason: string): never => {
    throw new WatchParseError(`Failed to parse 'http_handler_config': ${reason}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail("'' expected a map");
  const config = raw as Record<string, unknown>;
  const text = (name: string) => {
    const value = config[name] ?? '';
    if (typeof value !== 'string') return fail(`'${name}' expected type 'string'`);
    return value;
  };
  const path = text('path');
  if (path === '') fail("Requires 'path' to be set");
  const timeout = text('timeout');
  let timeoutMs = DEFAULT_HTTP_HANDLER_TIMEOUT_MS;
  if (timeout !== '') {
    try {
      timeoutMs = parseDuration(timeout) / 1e6;
    } catch (err) {
      if (!(err instanceof DurationError)) throw err;
      fail(`Failed to parse timeout: ${err.message}`);
    }
  }
  const skip = config.tls_skip_verify ?? false;
  if (typeof skip !== 'boolean') fail("'tls_skip_verify' expected type 'bool'");
  return {
    path,
    method: text('method') || 'POST',
    header: headerLists(config.header, fail),
    timeoutMs,
    tlsSkipVerify: skip as boolean,
  };
}

/** Header values are lists in Consul's config; a single string is read as a list of one. */
function headerLists(raw: unknown, fail: (reason: string) => never): Record<string, string[]> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return fail("'header' expected a map");
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(raw)) {
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
      return fail(`'header[${name}]' expected a list of strings`);
    }
    out[name] = list;
  }
  return out;
}
