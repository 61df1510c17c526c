import type { FastifyRequest } from 'fastify';
import { ServerHealthTracker } from '../../leader/autopilot.ts';
import type { StateDB } from '../../state/schema.ts';
import { serviceKey } from '../../state/schema.ts';
import { formatDuration } from '../../util/duration.ts';
import type { HttpContext, RaftPeer } from '../context.ts';
import { badRequest } from '../errors.ts';
import { flag, param, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';

// /v1/operator/raft and /v1/operator/autopilot: the Raft configuration, removing a peer, moving leadership,
// and autopilot's health report, in Consul's shapes.

/** Consul's Raft protocol version, which Tribune's log and RPC semantics follow. */
const RAFT_PROTOCOL = '3';

export function operatorRoutes(ctx: HttpContext): Routes {
  const health = new ServerHealthTracker();
  const configuration = (req: FastifyRequest) => ctx.cluster.configuration(flag(queryOf(req), 'stale'));
  return {
    '/v1/operator/raft/configuration': {
      GET: async (req, reply) => {
        const { index, servers } = await configuration(req);
        return sendJson(req, reply, {
          Servers: servers.map((server) => ({
            ID: server.id,
            Node: serverNode(ctx.store.db, server).name,
            Address: server.address,
            Leader: server.leader,
            ProtocolVersion: RAFT_PROTOCOL,
            Voter: server.voter,
            LastIndex: server.lastIndex,
          })),
          Index: index,
        });
      },
    },
    '/v1/operator/raft/peer': {
      DELETE: async (req, reply) => {
        const query = queryOf(req);
        const id = param(query, 'id');
        const address = param(query, 'address');
        if (!id && !address) {
          throw badRequest(
            "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove",
          );
        }
        await ctx.cluster.removePeer(id ? { id } : { address: address! });
        return reply.send();
      },
    },
    '/v1/operator/raft/transfer-leader': {
      POST: async (req, reply) => {
        await ctx.cluster.transferLeadership(param(queryOf(req), 'id') || undefined);
        return sendJson(req, reply, { Success: true });
      },
    },
    '/v1/operator/autopilot/health': {
      GET: async (req, reply) => {
        const report = health.evaluate(await configuration(req));
        // Consul answers 429 while the cluster is unhealthy, so load balancers can probe this endpoint.
        return sendJson(req, reply.status(report.healthy ? 200 : 429), {
          Healthy: report.healthy,
          FailureTolerance: report.failureTolerance,
          Servers: report.servers.map((server) => {
            const node = serverNode(ctx.store.db, server);
            return {
              ID: server.id,
              Name: node.name,
              Address: server.address,
              SerfStatus: server.status,
              Version: node.version,
              Leader: server.leader,
              LastContact: formatDuration(server.lastContactMs * 1e6),
              LastTerm: server.lastTerm,
              LastIndex: server.lastIndex,
              Healthy: server.healthy,
              Voter: server.voter,
              StableSince: server.stableSince.toISOString().replace(/\.\d+Z$/, 'Z'),
            };
          }),
        });
      },
    },
  };
}

/** The node name and version a server registered in the catalog; Consul shows "(unknown)" for strangers. */
function serverNode(db: StateDB, server: RaftPeer): { name: string; version: string } {
  for (const node of db.nodes.values()) {
    if (node.ID !== server.id) continue;
    const consul = db.services.get(serviceKey(node.Node, 'consul'));
    return { name: node.Node, version: consul?.Meta.version ?? '' };
  }
  return { name: '(unknown)', version: '' };
}
