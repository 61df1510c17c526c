import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { HttpError } from './errors.ts';

// Endpoints declare the methods they serve; any other method gets Consul's 405 with an Allow header, and
// OPTIONS answers with the allowed set.

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
export type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
export type Endpoint = Partial<Record<Method, Handler>> & { bodyLimit?: number };
export type Routes = Record<string, Endpoint>;

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'];

export function mount(app: FastifyInstance, routes: Routes): void {
  for (const [url, endpoint] of Object.entries(routes)) {
    const { bodyLimit, ...handlers } = endpoint;
    const allowed = Object.keys(handlers) as Method[];
    const allowHeader = ['OPTIONS', ...allowed].join(',');
    app.route({
      method: ALL_METHODS,
      url,
      ...(bodyLimit !== undefined ? { bodyLimit } : {}),
      handler: async (req, reply) => {
        if (req.method === 'OPTIONS') return reply.header('Allow', allowHeader).send();
        const method = (req.method === 'HEAD' ? 'GET' : req.method) as Method;
        const handler = handlers[method];
        if (!handler) throw new HttpError(405, `method ${req.method} not allowed`, { Allow: allowHeader });
        return handler(req, reply);
      },
    });
  }
}
