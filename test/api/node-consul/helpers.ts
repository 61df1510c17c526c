import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import Consul from 'consul';
import { type DevAgent, startDevAgent } from '../../helpers/dev-agent.ts';

// Shared plumbing for the node-consul suites: one real dev agent per test file, the npm `consul` client
// pointed at it, and assertions for the parts of Consul's HTTP contract the client hides (headers, raw
// bodies, error bodies).

export interface Harness {
  agent: DevAgent;
  consul: Consul;
  /** The agent's node name (the dev-agent helper starts it as `test-<host>`). */
  node: string;
  /** Plain fetch against `/v1<path>`, for what the client cannot send or hides. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function openHarness(): Promise<Harness> {
  const agent = await startDevAgent();
  const consul = new Consul({ host: agent.host, port: agent.port });
  return {
    agent,
    consul,
    node: `test-${agent.host}`,
    fetch: (path, init) => fetch(`http://${agent.httpAddr}/v1${path}`, init),
    async close() {
      consul.destroy();
      await agent.stop();
    },
  };
}

/**
 * The options `answered` passes in. `token` is only declared so the typings' all-optional option types
 * accept the object; it is never set.
 */
export interface ResponseOptions {
  ctx: EventEmitter;
  token?: string;
}

/** A check definition as node-consul takes it (lower-case keys; it builds Consul's body from them). */
export interface CheckDefinition {
  name?: string;
  id?: string;
  checkid?: string;
  serviceid?: string;
  ttl?: string;
  notes?: string;
  status?: string;
}

/** An agent service definition as node-consul takes it. */
export interface ServiceDefinition {
  name: string;
  id?: string;
  tags?: string[];
  address?: string;
  port?: number;
  meta?: Record<string, string>;
  check?: CheckDefinition;
  checks?: CheckDefinition[];
  connect?: { native?: boolean };
}

// node-consul's typings demand `name` and `timeout` on every check, which a TTL check has no use for.
export const registerService = (consul: Consul, service: ServiceDefinition & Partial<ResponseOptions>) =>
  consul.agent.service.register(service as { name: string });
export const registerCheck = (consul: Consul, check: CheckDefinition & { name: string }) =>
  consul.agent.check.register(check as Parameters<Consul['agent']['check']['register']>[0]);

/** health.node: node-consul reads the node from `node`, while its typings ask for `name`. */
export const healthNode = (consul: Consul, node: string, options: object = {}) =>
  consul.health.node({ node, ...options } as unknown as { name: string });

/** A node-consul response: papi leaves the decoded body on it. */
export type ClientResponse = IncomingMessage & { body?: unknown };

/**
 * Calls a node-consul method with its `ctx.includeResponse` hook, which makes it resolve to
 * `[response, body]` instead of the body alone. Pass the given options through: `(o) => kv.get({ key, ...o })`.
 */
export async function answered<T = unknown>(
  call: (options: ResponseOptions) => Promise<unknown>,
): Promise<{ res: ClientResponse; body: T | undefined }> {
  const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
  const [res, body] = (await call({ ctx })) as unknown as [ClientResponse, T | undefined];
  return { res, body };
}

/**
 * The answer's decoded body as it came over the wire. Needed for boolean answers: node-consul's pipeline
 * drops falsy results, so `kv.set`/`kv.del` resolve a JSON `false` as undefined.
 */
export async function wireBody<T = unknown>(
  call: (options: ResponseOptions) => Promise<unknown>,
): Promise<T> {
  const { res } = await answered(call);
  return res.body as T;
}

interface QueryMeta {
  LastIndex?: string;
  LastContact?: number;
  KnownLeader?: boolean;
}

/** node-consul's own reader of Consul's query headers (a static the typings leave out). */
const parseQueryMeta = (
  Consul as unknown as { parseQueryMeta(res: { headers: IncomingHttpHeaders }): QueryMeta }
).parseQueryMeta;

/** Headers of a fetch Response in the shape node-consul reads them. */
export function headersOf(res: Response): { headers: IncomingHttpHeaders } {
  return { headers: Object.fromEntries(res.headers) };
}

/**
 * Asserts the meta headers Consul sets on every read, 404s included: `X-Consul-Index` (a positive
 * integer, never 0), `X-Consul-KnownLeader: true` (a dev agent leads itself) and `X-Consul-LastContact`.
 * Returns the index.
 */
export function assertQueryMeta(res: { headers: IncomingHttpHeaders }): bigint {
  const meta = parseQueryMeta(res);
  assert.match(meta.LastIndex ?? '', /^[1-9][0-9]*$/, 'X-Consul-Index is a positive integer');
  assert.equal(meta.KnownLeader, true, 'X-Consul-KnownLeader');
  assert.ok(Number.isInteger(meta.LastContact) && meta.LastContact! >= 0, 'X-Consul-LastContact in ms');
  return BigInt(meta.LastIndex!);
}

/** Asserts a JSON answer's Content-Type (node-consul only parses bodies labelled application/json). */
export function assertJsonType(res: { headers: IncomingHttpHeaders }): void {
  assert.match(String(res.headers['content-type']), /^application\/json\b/);
}

/**
 * Asserts that a node-consul call failed with `status` and Consul's plain-text error body. node-consul
 * shows the body as the error message only for text/plain bodies under 80 bytes, so short messages must
 * surface there too.
 */
export async function assertConsulError(call: Promise<unknown>, status: number, body: string | RegExp) {
  await assert.rejects(call, (err: Error & { statusCode?: number; response?: ClientResponse }) => {
    assert.equal(err.statusCode, status, `status (error: ${err.message})`);
    const text = String(err.response?.body ?? '');
    if (typeof body === 'string') assert.equal(text, body);
    else assert.match(text, body);
    if (text !== '') assert.match(String(err.response?.headers['content-type']), /^text\/plain\b/);
    if (text.length < 80) assert.ok(err.message.endsWith(text), `error message "${err.message}"`);
    return true;
  });
}

/** The same for plain fetch answers. */
export async function assertFetchError(res: Response, status: number, body: string | RegExp) {
  const text = await res.text();
  assert.equal(res.status, status, `status (body: ${text})`);
  if (typeof body === 'string') assert.equal(text, body);
  else assert.match(text, body);
  assert.match(String(res.headers.get('content-type')), /^text\/plain\b/);
}

type FieldType = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';

/** Asserts that `value` has each field with the given JSON type (one of several when given a list). */
export function assertFields(value: unknown, fields: Record<string, FieldType | readonly FieldType[]>): void {
  assert.equal(typeof value, 'object');
  assert.ok(value !== null);
  const record = value as Record<string, unknown>;
  for (const [name, expected] of Object.entries(fields)) {
    assert.ok(Object.hasOwn(record, name), `field ${name} is present in ${JSON.stringify(value)}`);
    const field = record[name];
    const actual: FieldType =
      field === null ? 'null' : Array.isArray(field) ? 'array' : (typeof field as FieldType);
    const allowed: readonly FieldType[] = typeof expected === 'string' ? [expected] : expected;
    assert.ok(
      allowed.includes(actual),
      `field ${name} is ${allowed.join(' or ')}, got ${actual} in ${JSON.stringify(value)}`,
    );
  }
}

/**
 * Re-reads with Consul's blocking queries (`index` + `wait`) until `done` holds, so the test wakes on the
 * change itself instead of sleeping. Fails after `timeoutMs`.
 */
export async function blockUntil<T>(
  read: (query: { index: string; wait: string }) => Promise<{ res: ClientResponse; body: T | undefined }>,
  done: (body: T | undefined) => boolean,
  timeoutMs = 10_000,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let index = '0';
  let last: T | undefined;
  while (Date.now() < deadline) {
    const wait = `${Math.max(1, Math.ceil((deadline - Date.now()) / 1000))}s`;
    const { res, body } = await read({ index, wait });
    last = body;
    if (done(body)) return body;
    index = String(res.headers['x-consul-index'] ?? '0');
  }
  assert.fail(`condition not reached within ${timeoutMs} ms; last answer: ${JSON.stringify(last)}`);
}

/** Sum of the samples of a Prometheus metric whose labels include `labels`. */
export function prometheusValue(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) total += Number(match[3]);
  }
  return total;
}

export const base64 = (text: string) => Buffer.from(text).toString('base64');
