import { Counter, type Registry } from 'prom-client';
import type { Violation } from './errors.ts';

// Counters under Consul's names (consul.rpc.request, consul.rpc.request_error, consul.rpc.accept_conn,
// consul.client.rpc, consul.client.rpc.failed), so existing dashboards apply. Several servers or clients may
// share one registry (an agent has one of each; tests run several), so an existing counter is reused.

/** Why the server refused or failed a request or connection: the `reason` label of consul_rpc_request_error. */
export type RejectReason = Violation | 'unknown_method' | 'handler' | 'busy' | 'too_many_connections' | 'tls';

export class RpcServerMetrics {
  readonly requests: Counter;
  readonly errors: Counter<'reason'>;
  readonly connections: Counter;

  constructor(registry: Registry) {
    this.requests = counter(registry, 'consul_rpc_request', 'Server RPC requests received');
    this.errors = counter(
      registry,
      'consul_rpc_request_error',
      'Server RPC requests or connections rejected',
      ['reason'],
    );
    this.connections = counter(registry, 'consul_rpc_accept_conn', 'Server RPC connections accepted');
  }

  reject(reason: RejectReason): void {
    this.errors.inc({ reason });
  }
}

export class RpcClientMetrics {
  readonly calls: Counter;
  readonly failures: Counter;
  readonly droppedMessages: Counter;

  constructor(registry: Registry) {
    this.calls = counter(registry, 'consul_client_rpc', 'RPC calls made to servers');
    this.failures = counter(registry, 'consul_client_rpc_failed', 'RPC calls to servers that failed');
    // No Consul counterpart: Consul's Raft transport blocks the sender instead of dropping.
    this.droppedMessages = counter(
      registry,
      'tribune_rpc_messages_dropped',
      'One-way messages dropped because too much sent to the server was still queued',
    );
  }
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[] = [],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}
