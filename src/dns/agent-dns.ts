import type { Logger } from 'pino';
import type { AgentConfig } from '../agent/config.ts';
import type { ReadGate } from '../http/context.ts';
import type { StateStore } from '../state/store.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Transport } from './handler.ts';
import { DnsMetrics } from './metrics.ts';
import { dnsOptions } from './options.ts';
import { DnsServer } from './server.ts';

export interface AgentDnsDeps {
  config: AgentConfig;
  store: StateStore;
  reads: ReadGate;
  metrics: Metrics;
  log: Logger;
  /** On a client agent: how a message reaches a server's DNS. */
  forward?: (packet: Buffer, transport: Transport) => Promise<Buffer | undefined>;
}

/**
 * Starts the agent's DNS server on the client address and -dns-port, unless the port is -1. Servers (and the
 * dev agent) answer from their own state; a client agent holds no catalog, so it hands each message to a
 * server and relays the reply.
 */
export async function startAgentDns(deps: AgentDnsDeps): Promise<DnsServer | undefined> {
  const { config, log } = deps;
  if (config.dnsPort < 0) return undefined;
  if (!config.server && !deps.forward) return undefined;
  const server = new DnsServer({
    ...(config.server ? {} : { handle: deps.forward }),
    options: dnsOptions(config),
    host: config.clientAddr,
    port: config.dnsPort,
    store: deps.store,
    reads: deps.reads,
    log,
    metrics: new DnsMetrics(deps.metrics.registry, config.nodeName),
  });
  await server.start();
  return server;
}
