import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  goStatusText,
  HEALTH_CHECK_METHOD,
  probeGrpc,
  splitGrpcTarget,
} from '../../src/local/checks/grpc.ts';
import type { GrpcTarget } from '../../src/local/checks/spec.ts';

// The gRPC check's own protobuf encoding against hand-computed wire bytes, and its probe against an in-process
// grpc-js health server (plaintext and TLS).

describe('health messages', () => {
  test('HealthCheckRequest: field 1 as a length-delimited string, nothing for the empty name', () => {
    assert.deepEqual(encodeHealthCheckRequest(''), Buffer.alloc(0));
    assert.deepEqual(encodeHealthCheckRequest('api'), Buffer.from([0x0a, 3, 0x61, 0x70, 0x69]));
    const long = 'x'.repeat(200);
    assert.deepEqual(encodeHealthCheckRequest(long).subarray(0, 3), Buffer.from([0x0a, 0xc8, 0x01]));
    assert.equal(encodeHealthCheckRequest(long).length, 203);
    assert.deepEqual(encodeHealthCheckRequest('é'), Buffer.from([0x0a, 2, 0xc3, 0xa9]));
  });

  test('HealthCheckResponse: the status enum, default UNKNOWN, unknown fields skipped', () => {
    assert.deepEqual(decodeHealthCheckResponse(Buffer.alloc(0)), { status: 0 });
    assert.deepEqual(decodeHealthCheckResponse(Buffer.from([0x08, 1])), { status: 1 });
    const noisy = Buffer.from([
      ...[0x12, 2, 0x61, 0x62], // field 2, bytes
      ...[0x19, 1, 2, 3, 4, 5, 6, 7, 8], // field 3, fixed64
      ...[0x25, 1, 2, 3, 4], // field 4, fixed32
      ...[0x28, 0x96, 0x01], // field 5, varint 150
      ...[0x08, 2], // status NOT_SERVING
    ]);
    assert.deepEqual(decodeHealthCheckResponse(noisy), { status: 2 });
    assert.throws(() => decodeHealthCheckResponse(Buffer.from([0x08])), /truncated/);
    assert.throws(() => decodeHealthCheckResponse(Buffer.from([0x12, 5, 1])), /truncated/);
  });

  test('targets split at the first slash; errors read as Go prints them', () => {
    assert.deepEqual(splitGrpcTarget('10.0.0.1:9000'), { address: '10.0.0.1:9000', service: '' });
    assert.deepEqual(splitGrpcTarget('h:1/pkg.Svc/x'), { address: 'h:1', service: 'pkg.Svc/x' });
    assert.equal(
      goStatusText({ code: 5, details: 'unknown service' }),
      'rpc error: code = NotFound desc = unknown service',
    );
    assert.equal(
      goStatusText({ code: 4, details: 'Deadline exceeded after 1.0s' }),
      'rpc error: code = DeadlineExceeded desc = context deadline exceeded',
    );
    assert.equal(
      goStatusText({ code: 14, details: 'down. Resolution note: ' }),
      'rpc error: code = Unavailable desc = down.',
    );
  });
});

/** A health server answering from `statuses` by service name; names it does not know get NOT_FOUND. */
function healthServer(statuses: Map<string, number>): Server {
  const server = new Server();
  server.register(
    HEALTH_CHECK_METHOD,
    (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      // The request is field 1 (a short string) or empty.
      const service = call.request.length > 2 ? call.request.subarray(2).toString('utf8') : '';
      const status = statuses.get(service);
      if (status === undefined) return callback({ code: 5, details: 'unknown service' });
      callback(null, Buffer.from([0x08, status]));
    },
    (response: Buffer) => response,
    (request: Buffer) => request,
    'unary',
  );
  return server;
}

function bind(server: Server, credentials = ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, port) => (err ? reject(err) : resolve(port))),
  );
}

const targetOf = (port: number, service = '', tls: Partial<GrpcTarget> = {}): GrpcTarget => ({
  target: `127.0.0.1:${port}${service ? `/${service}` : ''}`,
  address: `127.0.0.1:${port}`,
  service,
  useTLS: false,
  tlsSkipVerify: false,
  tlsServerName: '',
  ...tls,
});

describe('probe', () => {
  const statuses = new Map([
    ['', 1],
    ['api', 1],
  ]);
  const server = healthServer(statuses);
  let port = 0;
  before(async () => {
    port = await bind(server);
  });
  after(() => server.forceShutdown());

  test('SERVING passes; any other status or an error is critical, in Consul words', async () => {
    assert.deepEqual(await probeGrpc(targetOf(port), 2000), {
      passing: true,
      output: `gRPC check 127.0.0.1:${port}: success`,
    });
    assert.deepEqual(await probeGrpc(targetOf(port, 'api'), 2000), {
      passing: true,
      output: `gRPC check 127.0.0.1:${port}/api: success`,
    });
    for (const [status, name] of [
      [2, 'NOT_SERVING'],
      [0, 'UNKNOWN'],
      [3, 'SERVICE_UNKNOWN'],
      [9, '9'],
    ] as const) {
      statuses.set('api', status);
      assert.deepEqual(await probeGrpc(targetOf(port, 'api'), 2000), {
        passing: false,
        output: `gRPC 127.0.0.1:${port}/api serving status: ${name}`,
      });
    }
    assert.deepEqual(await probeGrpc(targetOf(port, 'nope'), 2000), {
      passing: false,
      output: 'rpc error: code = NotFound desc = unknown service',
    });
  });

  test('nothing listening, or no port, is critical with the dial error', async () => {
    const closed = healthServer(new Map());
    const closedPort = await bind(closed);
    closed.forceShutdown();
    const refused = await probeGrpc(targetOf(closedPort), 2000);
    assert.equal(refused.passing, false);
    assert.match(refused.output, /^rpc error: code = Unavailable desc = .*ECONNREFUSED/);
    const portless = await probeGrpc({ ...targetOf(0), address: 'localhost', target: 'localhost' }, 2000);
    assert.equal(portless.passing, false);
    assert.match(portless.output, /address localhost: missing port in address/);
  });
});

/** A self-signed certificate from the openssl command line, or undefined where there is none. */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'tribune-grpc-tls-'));
  try {
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=health.test',
        '-addext',
        'subjectAltName=DNS:health.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    if (made.status !== 0) return undefined;
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('probe over TLS', () => {
  const pair = selfSigned();
  const server = healthServer(new Map([['', 1]]));
  let port = 0;
  before(async () => {
    if (pair)
      port = await bind(
        server,
        ServerCredentials.createSsl(null, [{ private_key: pair.key, cert_chain: pair.cert }]),
      );
  });
  after(() => server.forceShutdown());

  test('GRPCUseTLS with TLSSkipVerify passes; an untrusted certificate or plaintext is critical', {
    skip: !pair && 'no openssl',
  }, async () => {
    const skipping = await probeGrpc(
      targetOf(port, '', { useTLS: true, tlsSkipVerify: true, tlsServerName: 'health.test' }),
      3000,
    );
    assert.deepEqual(skipping, { passing: true, output: `gRPC check 127.0.0.1:${port}: success` });
    const verifying = await probeGrpc(
      targetOf(port, '', { useTLS: true, tlsServerName: 'health.test' }),
      3000,
    );
    assert.equal(verifying.passing, false);
    assert.match(verifying.output, /^rpc error: code = Unavailable desc = .*self[- ]signed certificate/i);
    const plaintext = await probeGrpc(targetOf(port), 3000);
    assert.equal(plaintext.passing, false);
    assert.match(plaintext.output, /^rpc error: code = /);
  });
});
