// An HTTP client for the agent's Consul-compatible /v1 API, as Consul's Go api package is one: the CLI, watches
// and locks use it. Errors read like the Go client's, because users' scripts match on them: "Unexpected
// response code: 500 (body)", `Get "url": dial tcp ...`.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseJson } from '../util/json.ts';

export interface ClientConfig {
  /** `host:port`, or a URL with scheme `http` or `https` and an optional path prefix. */
  address: string;
  token: string;
  /** `?dc=` on every request when set. */
  datacenter: string;
  /** `?stale` on reads. */
  stale: boolean;
}

/** What the flags gave; anything left empty falls back to the environment, then to Consul's defaults. */
export interface ClientFlagValues {
  httpAddr: string;
  token: string;
  tokenFile: string;
  datacenter: string;
  stale: boolean;
}

export const DEFAULT_ADDRESS = '127.0.0.1:8500';

/** The wait of blocking reads that name none: under the 300 s Node's fetch waits for an answer. */
const BLOCKING_WAIT = '4m';

/**
 * Resolves flags over environment: `TRIBUNE_*` first (explicitly aimed at Tribune), then Consul's `CONSUL_*`
 * names so existing setups work. As in Consul, a token file, when it holds a token, wins over `-token`.
 */
export function resolveClientConfig(
  flags: ClientFlagValues,
  env: NodeJS.ProcessEnv = process.env,
): ClientConfig {
  const pick = (flag: string, name: string) => flag || env[`TRIBUNE_${name}`] || env[`CONSUL_${name}`] || '';
  let address = pick(flags.httpAddr, 'HTTP_ADDR') || DEFAULT_ADDRESS;
  if (!address.includes('://') && /^(1|t|true)$/i.test(pick('', 'HTTP_SSL'))) address = `https://${address}`;
  let token = pick(flags.token, 'HTTP_TOKEN');
  const tokenFile = pick(flags.tokenFile, 'HTTP_TOKEN_FILE');
  if (tokenFile !== '') {
    let fromFile: string;
    try {
      fromFile = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new Error(`Error loading token file: ${(err as Error).message}`);
    }
    if (fromFile !== '') token = fromFile;
  }
  return { address, token, datacenter: flags.datacenter, stale: flags.stale };
}

/** A non-2xx answer from the agent, worded as Consul's Go client words it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    /** X-Consul-Index, which Consul sends on 404s too. */
    readonly index: bigint,
  ) {
    super(`Unexpected response code: ${status} (${body})`);
  }
}

type QueryValue = string | number | bigint | boolean | readonly string[] | undefined;
/** Query parameters: `true` sends a bare flag (`?recurse=`), false/undefined/'' leave it out, arrays repeat. */
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** Raw bytes (KV values) or a value sent as JSON. */
  body?: Uint8Array | object;
  /** Aborts the request (a blocking query the caller no longer waits for). */
  signal?: AbortSignal;
}

/** A read with its X-Consul-Index: what blocking queries need. */
export interface IndexedRead {
  /** The JSON answer (integers past 2^53 as bigints), or undefined for a 404. */
  value: unknown;
  index: bigint;
}

type Method = 'GET' | 'PUT' | 'DELETE' | 'POST';

export class ApiClient {
  private readonly base: URL;

  constructor(private readonly config: ClientConfig) {
    this.base = parseAddress(config.address);
  }

  /** GET, validating the JSON answer against `schema`. */
  async get<T>(path: string, schema: z.ZodType<T>, query: Query = {}): Promise<T> {
    const text = await this.send('GET', path, { query });
    return parseBody(path, text, schema);
  }

  /**
   * GET that keeps the answer's index, for blocking queries (`index` and `wait` in the query). A 404 is an
   * answer too, with no value, as Consul's Go client reads missing KV keys.
   */
  async read(path: string, query: Query = {}, signal?: AbortSignal): Promise<IndexedRead> {
    // Node's fetch gives up on an answer after 300 s, and Consul's default wait (5 min plus up to 1/16 of it)
    // can take longer, so a blocking read without a wait of its own asks for less.
    const wait = query.index && !query.wait ? { wait: BLOCKING_WAIT } : {};
    let response: Response;
    try {
      response = await this.fetchOk('GET', path, {
        query: { ...query, ...wait },
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return { value: undefined, index: err.index };
      throw err;
    }
    const text = await response.text();
    return { value: parseJsonBody(path, text), index: indexOf(response) };
  }

  /** GET where 404 means "nothing there" (KV reads), answered with undefined. */
  async getOptional<T>(path: string, schema: z.ZodType<T>, query: Query = {}): Promise<T | undefined> {
    try {
      return await this.get(path, schema, query);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async put<T>(path: string, schema: z.ZodType<T>, options: RequestOptions = {}): Promise<T> {
    return parseBody(path, await this.send('PUT', path, options), schema);
  }

  /** A write whose answer carries nothing the caller needs (agent endpoints answer with an empty body). */
  async putIgnoringBody(path: string, options: RequestOptions = {}): Promise<void> {
    await this.writeIgnoringBody('PUT', path, options);
  }

  /** Any write whose answer carries nothing the caller needs (agent and operator endpoints answer empty). */
  async writeIgnoringBody(
    method: 'PUT' | 'POST' | 'DELETE',
    path: string,
    options: RequestOptions = {},
  ): Promise<void> {
    await this.send(method, path, options);
  }

  async delete<T>(path: string, schema: z.ZodType<T>, query: Query = {}): Promise<T> {
    return parseBody(path, await this.send('DELETE', path, { query }), schema);
  }

  /** A DELETE whose answer carries nothing the caller needs (operator endpoints answer with an empty body). */
  async deleteIgnoringBody(path: string, query: Query = {}): Promise<void> {
    await this.writeIgnoringBody('DELETE', path, { query });
  }

  async post<T>(path: string, schema: z.ZodType<T>, options: RequestOptions = {}): Promise<T> {
    return parseBody(path, await this.send('POST', path, options), schema);
  }

  /**
   * GET of a binary answer (a snapshot archive), left unread for the caller to stream, with the
   * X-Consul-Index header (0 when absent, as Consul's Go client reads it).
   */
  async getStream(path: string, query: Query = {}): Promise<{ response: Response; lastIndex: bigint }> {
    const response = await this.fetchOk('GET', path, { query });
    return { response, lastIndex: indexOf(response) };
  }

  private async send(method: Method, path: string, options: RequestOptions): Promise<string> {
    return (await this.fetchOk(method, path, options)).text();
  }

  /** Sends the request; a non-2xx answer is read and thrown as an ApiError, a 2xx one is returned unread. */
  private async fetchOk(
    method: Method,
    path: string,
    { query = {}, body, signal }: RequestOptions,
  ): Promise<Response> {
    // -stale applies to reads that did not ask for consistency themselves (the two conflict).
    const stale = method === 'GET' && this.config.stale && !query.consistent;
    const url = this.url(path, stale ? { ...query, stale: true } : query);
    const headers: Record<string, string> = {};
    if (this.config.token !== '') headers['X-Consul-Token'] = this.config.token;
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array) {
      payload = new Uint8Array(body);
      headers['Content-Type'] = 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }

    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: payload, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new Error(`${method[0]}${method.slice(1).toLowerCase()} "${url}": ${networkReason(err, url)}`);
    }
    if (!response.ok) throw new ApiError(response.status, (await response.text()).trim(), indexOf(response));
    return response;
  }

  private url(path: string, query: Query): string {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    const params = url.searchParams;
    if (this.config.datacenter !== '') params.set('dc', this.config.datacenter);
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || value === false || value === '') continue;
      if (value === true) params.append(name, '');
      else if (Array.isArray(value)) for (const item of value) params.append(name, item);
      else params.append(name, String(value));
    }
    return url.toString();
  }
}

/** Encodes a KV key or other user-supplied name for a URL path, keeping its slashes. */
export function pathEscape(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

function parseAddress(address: string): URL {
  const sep = address.indexOf('://');
  const scheme = sep === -1 ? 'http' : address.slice(0, sep);
  if (scheme === 'unix') throw new Error('Unix socket addresses are not supported; use host:port');
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`Unknown protocol scheme: ${scheme}`);
  const rest = sep === -1 ? address : address.slice(sep + 3);
  try {
    return new URL(`${scheme}://${rest}`);
  } catch {
    throw new Error(`Invalid address: ${address}`);
  }
}

function parseBody<T>(path: string, text: string, schema: z.ZodType<T>): T {
  const result = schema.safeParse(parseJsonBody(path, text));
  if (!result.success) throw new Error(`Unexpected response for ${path}: ${z.prettifyError(result.error)}`);
  return result.data;
}

function parseJsonBody(path: string, text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    throw new Error(`Unexpected response for ${path}: not JSON: ${text.slice(0, 80)}`);
  }
}

/** X-Consul-Index, 0 when absent, as Consul's Go client reads it. */
function indexOf(response: Response): bigint {
  const header = response.headers.get('X-Consul-Index') ?? '';
  return /^\d+$/.test(header) ? BigInt(header) : 0n;
}

/** The reason Go's HTTP client gives for a failed connection, so messages match Consul's. */
function networkReason(err: unknown, url: string): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const { hostname, port, protocol } = new URL(url);
  const hostPort = `${hostname}:${port || (protocol === 'https:' ? '443' : '80')}`;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${hostPort}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${hostname}: no such host`;
    case 'ETIMEDOUT':
      return `dial tcp ${hostPort}: i/o timeout`;
    case 'ECONNRESET':
      return 'connection reset by peer';
    default:
      return cause?.message ?? (err as Error).message;
  }
}
