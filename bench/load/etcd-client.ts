import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// A minimal etcd v3 client over its native gRPC API (bench/etcd/kv.proto): each EtcdClient is one channel
// with its own connection (a local subchannel pool), so 64 clients are 64 connections as for the HTTP
// systems.

const PROTO = fileURLToPath(new URL('../etcd/kv.proto', import.meta.url));
const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, defaults: false });
const pkg = grpc.loadPackageDefinition(definition).etcdserverpb as Record<
  string,
  grpc.ServiceClientConstructor
>;

type Callback<T> = (error: grpc.ServiceError | null, response: T) => void;
type Unary<Req, Res> = (request: Req, options: grpc.CallOptions, callback: Callback<Res>) => void;

interface KvStub extends grpc.Client {
  Put: Unary<{ key: Buffer; value: Buffer }, unknown>;
  Range: Unary<{ key: Buffer; serializable?: boolean }, { kvs?: unknown[] }>;
}
interface MaintenanceStub extends grpc.Client {
  Status: Unary<Record<string, never>, { header?: { member_id?: string }; leader?: string }>;
}

export class EtcdClient {
  private readonly kv: KvStub;
  private readonly maintenance: MaintenanceStub;

  constructor(readonly address: string) {
    const options = { 'grpc.use_local_subchannel_pool': 1 };
    const credentials = grpc.credentials.createInsecure();
    this.kv = new pkg.KV!(address, credentials, options) as unknown as KvStub;
    this.maintenance = new pkg.Maintenance!(address, credentials, options) as unknown as MaintenanceStub;
  }

  put(key: string, value: Buffer | string, timeoutMs = 10_000): Promise<void> {
    return call(this.kv, this.kv.Put, { key: Buffer.from(key), value: Buffer.from(value) }, timeoutMs).then(
      () => undefined,
    );
  }

  /** The number of values found (0 or 1 for one key). */
  async get(key: string, serializable: boolean, timeoutMs = 10_000): Promise<number> {
    const res = await call(this.kv, this.kv.Range, { key: Buffer.from(key), serializable }, timeoutMs);
    return res.kvs?.length ?? 0;
  }

  /** This member's id and the leader it knows of (uint64s as decimal strings; "0" when none). */
  async status(timeoutMs = 1000): Promise<{ memberId: string; leader: string }> {
    const res = await call(this.maintenance, this.maintenance.Status, {}, timeoutMs);
    return { memberId: res.header?.member_id ?? '0', leader: res.leader ?? '0' };
  }

  close(): void {
    this.kv.close();
    this.maintenance.close();
  }
}

function call<Req, Res>(
  client: grpc.Client,
  method: Unary<Req, Res>,
  request: Req,
  timeoutMs: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, request, { deadline: Date.now() + timeoutMs }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}
