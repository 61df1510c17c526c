import type { ChannelOptions, Client, ServiceError } from '@grpc/grpc-js';
import type { GrpcTarget } from './spec.ts';

// Consul's gRPC check: one grpc.health.v1.Health/Check call per run, on a connection of its own that is closed
// afterwards. SERVING is passing; any other serving status, or any error, is critical with the error's text.
// The two messages are tiny (one field each), so they are encoded here rather than loaded from a .proto.

export const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';

/** grpc.health.v1.HealthCheckResponse.ServingStatus, with the names Go prints. */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
const SERVING = 1;
const DEADLINE_EXCEEDED = 4;

/** Go's names of gRPC status codes, as its `rpc error: code = … desc = …` errors print them. */
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

export interface GrpcProbeResult {
  passing: boolean;
  output: string;
}

/** Splits `host:port[/service]` at the first slash, as Consul does. */
export function splitGrpcTarget(target: string): { address: string; service: string } {
  const slash = target.indexOf('/');
  return slash < 0
    ? { address: target, service: '' }
    : { address: target.slice(0, slash), service: target.slice(slash + 1) };
}

/** HealthCheckRequest { string service = 1; } */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(bytes.length), bytes]);
}

/** HealthCheckResponse { ServingStatus status = 1; }, skipping fields it does not know. */
export function decodeHealthCheckResponse(bytes: Buffer): { status: number } {
  let status = 0;
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= bytes.length) throw new Error('truncated varint');
      const byte = bytes[at++]!;
      if (shift < 53) value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) return value;
      if (shift > 70) throw new Error('varint too long');
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === 0) {
      const value = varint();
      if (field === 1) status = value;
    } else if (wireType === 1) at += 8;
    else if (wireType === 2) {
      const length = varint(); // read before adding: varint() moves `at`
      at += length;
    } else if (wireType === 5) at += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
    if (at > bytes.length) throw new Error('truncated field');
  }
  return { status };
}

function encodeVarint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Buffer.from(out);
}

/**
 * The text Go's grpc gives a failed call: `rpc error: code = Unavailable desc = …`. A timeout reads as Go's
 * context deadline; other descriptions are grpc-js's, less its empty resolution note.
 */
export function goStatusText(err: Pick<ServiceError, 'code' | 'details'>): string {
  const code = GO_CODE_NAMES[err.code] ?? `Code(${err.code})`;
  const desc =
    err.code === DEADLINE_EXCEEDED
      ? 'context deadline exceeded'
      : err.details.replace(/\s*Resolution note: $/, '').trimEnd();
  return `rpc error: code = ${code} desc = ${desc}`;
}

export const servingStatusName = (value: number): string => SERVING_STATUS[value] ?? String(value);

export async function probeGrpc(target: GrpcTarget, timeoutMs: number): Promise<GrpcProbeResult> {
  // grpc-js would dial port 443; Go's dialer refuses an address without a port.
  if (!/:\d+$/.test(target.address)) {
    const reason = `dial tcp: address ${target.address}: missing port in address`;
    return {
      passing: false,
      output: `rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: ${reason}"`,
    };
  }
  // Loaded on the first gRPC check: an agent without one never pays for grpc-js at start-up.
  const { Client, credentials, Metadata } = await import('@grpc/grpc-js');
  const options: ChannelOptions = {
    // A fresh connection each run, as Consul dials one per check: no reconnect backoff carried over.
    'grpc.use_local_subchannel_pool': 1,
    ...(target.useTLS && target.tlsServerName
      ? { 'grpc.ssl_target_name_override': target.tlsServerName }
      : {}),
  };
  const channelCredentials = target.useTLS
    ? credentials.createSsl(null, null, null, { rejectUnauthorized: !target.tlsSkipVerify })
    : credentials.createInsecure();
  let client: Client;
  try {
    client = new Client(target.address, channelCredentials, options);
  } catch (err) {
    return { passing: false, output: (err as Error).message };
  }
  return new Promise<GrpcProbeResult>((resolve) => {
    client.makeUnaryRequest(
      HEALTH_CHECK_METHOD,
      encodeHealthCheckRequest,
      decodeHealthCheckResponse,
      target.service,
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, response) => {
        if (err) return resolve({ passing: false, output: goStatusText(err) });
        if (response?.status !== SERVING) {
          const name = servingStatusName(response?.status ?? 0);
          return resolve({ passing: false, output: `gRPC ${target.target} serving status: ${name}` });
        }
        resolve({ passing: true, output: `gRPC check ${target.target}: success` });
      },
    );
  }).finally(() => client.close());
}
