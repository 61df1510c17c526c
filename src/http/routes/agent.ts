import os from 'node:os';
import { formatDuration } from '../../util/duration.ts';
import type { HttpContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { flag, param, queryOf } from '../query.ts';
import { sendJson } from '../reply.ts';
import type { Routes } from '../router.ts';
import { agentCheckRoutes } from './agent-checks.ts';
import { agentServiceRoutes, enableParam } from './agent-services.ts';
import { SESSION_TTL_MIN } from './session.ts';

// /v1/agent: the agent itself: self, members, metrics, maintenance, reload and leave, plus its services and
// checks (agent-services.ts, agent-checks.ts).

/** The Consul API level Tribune implements; tools gate features on Config.Version. */
export const CONSUL_COMPAT_VERSION = '1.20.0';

export function agentRoutes(ctx: HttpContext): Routes {
  const { agent } = ctx;
  return {
    ...agentServiceRoutes(ctx),
    ...agentCheckRoutes(ctx),
    '/v1/agent/self': { GET: async (req, reply) => sendJson(req, reply, self(ctx)) },
    '/v1/agent/members': {
      GET: async (req, reply) => sendJson(req, reply, agent.members(flag(queryOf(req), 'wan'))),
    },
    '/v1/agent/join/*': {
      PUT: async (req, reply) => {
        const address = (req.params as { '*': string })['*'];
        if ((await agent.join(address, flag(queryOf(req), 'wan'))) === 0) {
          throw new HttpError(500, `1 error occurred:\n\t* Failed to join ${address}: no answer\n\n`);
        }
        return reply.send();
      },
    },
    '/v1/agent/force-leave/*': {
      PUT: async (req, reply) => {
        const node = (req.params as { '*': string })['*'];
        if (!agent.members().some((m) => m.Name === node)) {
          throw new HttpError(500, `agent: No node found with name '${node}'`);
        }
        agent.forceLeave(node, flag(queryOf(req), 'prune'));
        return reply.send();
      },
    },
    '/v1/agent/maintenance': {
      PUT: async (req, reply) => {
        await agent.local.setNodeMaintenance(enableParam(req), param(queryOf(req), 'reason') ?? '');
        return reply.send();
      },
    },
    '/v1/agent/reload': {
      PUT: async (_req, reply) => {
        await agent.reload();
        return reply.send();
      },
    },
    '/v1/agent/leave': {
      PUT: async (_req, reply) => {
        reply.raw.once('finish', () => agent.leave());
        return reply.send();
      },
    },
    '/v1/agent/metrics': {
      GET: async (req, reply) => {
        if (param(queryOf(req), 'format') === 'prometheus') {
          return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
        }
        return sendJson(req, reply, ctx.metrics.summary());
      },
    },
  };
}

function self(ctx: HttpContext) {
  const { agent, store } = ctx;
  const { config } = agent;
  const member = agent.members().find((m) => m.Name === config.nodeName);
  const str = (value: unknown) => String(value);
  return {
    Config: {
      Datacenter: config.datacenter,
      PrimaryDatacenter: config.datacenter,
      NodeName: config.nodeName,
      NodeID: agent.nodeId,
      Revision: `tribune-${agent.version}`,
      Server: config.server || config.dev,
      Version: CONSUL_COMPAT_VERSION,
      BuildDate: agent.startedAt.toISOString(),
      // Patroni reads this (in nanoseconds) to fit its session TTL to the server's bounds.
      SessionTTLMin: SESSION_TTL_MIN,
    },
    DebugConfig: {
      Datacenter: config.datacenter,
      NodeName: config.nodeName,
      NodeID: agent.nodeId,
      ServerMode: config.server || config.dev,
      DevMode: config.dev,
      ClientAddrs: [config.clientAddr],
      BindAddr: config.bindAddr,
      HTTPPort: config.httpPort,
      DNSPort: config.dnsPort,
      SessionTTLMin: formatDuration(SESSION_TTL_MIN),
      KVMaxValueSize: 512 * 1024,
    },
    Coord: { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 },
    Member: member ?? null,
    Meta: { 'consul-network-segment': '', ...config.nodeMeta },
    Stats: {
      agent: {
        check_monitors: str(agent.local.listChecks().filter((c) => c.spec.kind === 'script').length),
        check_ttls: str(agent.local.listChecks().filter((c) => c.spec.kind === 'ttl').length),
        checks: str(agent.local.listChecks().length),
        services: str(agent.local.listServices().length),
      },
      build: { prerelease: '', revision: `tribune-${agent.version}`, version: CONSUL_COMPAT_VERSION },
      consul: {
        bootstrap: str(config.dev),
        known_datacenters: '1',
        leader: str(ctx.cluster.leaderAddress() !== ''),
        leader_addr: ctx.cluster.leaderAddress(),
        server: str(config.server || config.dev),
      },
      raft: {
        applied_index: str(store.lastIndex),
        commit_index: str(store.lastIndex),
        last_log_index: str(store.lastIndex),
        num_peers: str(Math.max(ctx.cluster.peerAddresses().length - 1, 0)),
        state: ctx.cluster.isLeader() ? 'Leader' : 'Follower',
      },
      runtime: {
        arch: os.arch(),
        cpu_count: str(os.cpus().length),
        os: os.platform(),
        version: process.version,
        heap_used: str(process.memoryUsage().heapUsed),
      },
      serf_lan: { members: str(agent.members().length), encrypted: str(agent.gossipEncrypted()) },
    },
  };
}
