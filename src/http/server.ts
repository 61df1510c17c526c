import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import { StateError } from '../state/errors.ts';
import type { HttpContext } from './context.ts';
import { HttpError } from './errors.ts';
import { forwardableHeaders } from './hop-headers.ts';
import { mount } from './router.ts';
import { agentRoutes } from './routes/agent.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { eventRoutes } from './routes/event.ts';
import { healthRoutes } from './routes/health.ts';
import { kvRoutes } from './routes/kv.ts';
import { operatorRoutes } from './routes/operator.ts';
import { operatorKeyringRoutes } from './routes/operator-keyring.ts';
import { queryRoutes } from './routes/query.ts';
import { forwardedSessionBody, sessionRoutes } from './routes/session.ts';
import { snapshotRoutes } from './routes/snapshot.ts';
import { statusRoutes } from './routes/status.ts';
import { txnRoutes } from './routes/txn.ts';

/** Bodies of any content type arrive as bytes; this is the most any endpoint accepts. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export function buildHttpServer(ctx: HttpContext): FastifyInstance {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // Requests are logged at debug level by the onResponse hook below, as Consul logs them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    routerOptions: { maxParamLength: 64 * 1024 },
    forceCloseConnections: true,
    return503OnClosing: false,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', async (req, reply) => {
    const path = (req.routeOptions.url ?? 'unknown')
      .replace(/^\//, '')
      .replace(/[:*][^/]*/g, '')
      .replaceAll('/', '_');
    ctx.metrics.httpRequests.observe({ method: req.method, path }, reply.elapsedTime);
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode }, 'request');
  });

  const forward = ctx.forward;
  if (forward) {
    app.addHook('preHandler', async (req, reply) => {
      if (answeredLocally(req.url)) return;
      const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? new Uint8Array(req.body) : null;
      const sessionCreate = req.method === 'PUT' && req.url.split('?')[0] === '/v1/session/create';
      const answer = await forward({
        method: req.method,
        url: req.url,
        headers: forwardableHeaders(req.headers),
        body: sessionCreate ? forwardedSessionBody(body, ctx.agent.config.nodeName) : body,
      });
      return reply.status(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
    });
  }

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const limit = req.routeOptions.bodyLimit ?? MAX_BODY_BYTES;
    const { status, message, headers } = describeError(err, req.headers['content-length'], limit);
    if (status >= 500) req.log.error({ err, url: req.url }, 'request failed');
    return reply.status(status).headers(headers).type('text/plain; charset=utf-8').send(message);
  });

  app.setNotFoundHandler((_req, reply) =>
    reply.status(404).type('text/plain; charset=utf-8').send('404 page not found'),
  );

  for (const routes of [
    kvRoutes,
    txnRoutes,
    catalogRoutes,
    healthRoutes,
    agentRoutes,
    sessionRoutes,
    statusRoutes,
    operatorRoutes,
    operatorKeyringRoutes,
    eventRoutes,
    queryRoutes,
    snapshotRoutes,
  ]) {
    mount(app, routes(ctx));
  }
  return app;
}

function describeError(
  err: FastifyError,
  contentLength: string | undefined,
  bodyLimit: number,
): { status: number; message: string; headers: Record<string, string> } {
  if (err instanceof HttpError) return { status: err.status, message: err.message, headers: err.headers };
  if (err instanceof StateError) return { status: 500, message: err.message, headers: {} };
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const size = contentLength ? `(${contentLength} bytes)` : '';
    return {
      status: 413,
      message: `Request body${size} too large, max size: ${bodyLimit} bytes`,
      headers: {},
    };
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, message: err.message, headers: {} };
  }
  return { status: 500, message: err.message || 'Internal error', headers: {} };
}

/** What a client agent answers itself: its own agent endpoints and the events it has seen. */
function answeredLocally(url: string): boolean {
  return url.startsWith('/v1/agent/') || url.startsWith('/v1/event/');
}
