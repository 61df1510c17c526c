import { Pool } from 'undici';

// Keep-alive HTTP/1.1 connections to one server through undici's Pool: `connections` sockets, one request
// at a time on each (no pipelining), as Consul's HTTP clients use it.

export interface HttpReply {
  status: number;
  body: string;
  index: string | undefined;
}

export class HttpTarget {
  private readonly pool: Pool;

  constructor(
    readonly origin: string,
    connections: number,
    localAddress?: string,
  ) {
    this.pool = new Pool(origin, {
      connections,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 600_000,
      keepAliveMaxTimeout: 600_000,
      ...(localAddress ? { connect: { localAddress } } : {}),
    });
  }

  async request(
    method: 'GET' | 'PUT',
    path: string,
    body?: string,
    signal?: AbortSignal,
  ): Promise<HttpReply> {
    const res = await this.pool.request({
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      ...(signal ? { signal } : {}),
    });
    const text = await res.body.text();
    const index = res.headers['x-consul-index'];
    return { status: res.statusCode, body: text, index: typeof index === 'string' ? index : undefined };
  }

  /** A request that must answer 200 (and `true` for KV writes); throws otherwise. */
  async expectOk(method: 'GET' | 'PUT', path: string, body?: string): Promise<HttpReply> {
    const reply = await this.request(method, path, body);
    if (reply.status !== 200)
      throw new Error(`${method} ${path}: ${reply.status} ${reply.body.slice(0, 200)}`);
    return reply;
  }

  /** Connections open and requests in flight (undici's pool stats). */
  stats(): { connected: number; running: number; pending: number } {
    const { connected, running, pending } = this.pool.stats;
    return { connected, running, pending };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
