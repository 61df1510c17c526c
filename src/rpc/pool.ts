import { Registry } from 'prom-client';
import { RpcClient, type RpcClientOptions } from './client.ts';

// One client, hence one multiplexed connection, per server address: Raft peers and forwarding both take
// their client from here, so a server talks to each peer over a single connection.

export class RpcPool {
  private readonly clients = new Map<string, RpcClient>();
  private readonly options: RpcClientOptions;

  constructor(options: RpcClientOptions = {}) {
    // One registry for all clients, so their counters add up in one place.
    this.options = { ...options, registry: options.registry ?? new Registry() };
  }

  /** The client for `address` ("host:port"), created on first use; it connects on its first call. */
  get(address: string): RpcClient {
    let client = this.clients.get(address);
    if (!client) {
      client = new RpcClient(address, this.options);
      this.clients.set(address, client);
    }
    return client;
  }

  /** Closes and forgets one server's client, as when the server leaves the cluster. */
  remove(address: string): void {
    this.clients.get(address)?.close();
    this.clients.delete(address);
  }

  /** Closes every client, failing their pending calls. */
  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
