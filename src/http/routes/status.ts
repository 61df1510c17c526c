import type { HttpContext } from '../context.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';

export function statusRoutes(ctx: HttpContext): Routes {
  return {
    '/v1/status/leader': { GET: async (req, reply) => sendJson(req, reply, ctx.cluster.leaderAddress()) },
    '/v1/status/peers': { GET: async (req, reply) => sendJson(req, reply, ctx.cluster.peerAddresses()) },
  };
}
