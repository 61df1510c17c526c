import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { RpcConnectionError } from '../../src/rpc/errors.ts';
import { tlsTransport } from '../../src/rpc/transport.ts';
import { counter, sleep, startServer, type TestServer } from './rpc-harness.ts';

// The same server and client over TLS on 127.0.83.3: enabling TLS is only a transport option. Certificates
// are made here with node:crypto and a few lines of DER, enough for self-signed ECDSA P-256 certificates
// with an IP subjectAltName, so the test needs neither openssl nor a certificate library.

const HOST = '127.0.83.3';

function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}
const seq = (...parts: Buffer[]) => der(0x30, ...parts);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return der(0x06, Buffer.from(bytes));
}
const utcTime = (date: Date) =>
  der(
    0x17,
    Buffer.from(
      date
        .toISOString()
        .replace(/[-:T]|\.\d+/g, '')
        .slice(2),
    ),
  );
const commonName = (cn: string) => seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn)))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** A self-signed certificate for `cn`, valid for IP 127.0.83.3 and usable as its own trust anchor. */
function selfSigned(cn: string): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const ip = Buffer.from(HOST.split('.').map(Number));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // v3
    der(0x02, Buffer.from([1, ...Array.from({ length: 8 }, () => Math.floor(Math.random() * 256))])),
    ECDSA_SHA256,
    commonName(cn),
    seq(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 3_600_000))),
    commonName(cn),
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      seq(
        seq(oid('2.5.29.17'), der(0x04, seq(der(0x87, ip)))), // subjectAltName: IP
        seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq(der(0x01, Buffer.from([0xff]))))), // CA
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = seq(tbs, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  const base64 = certificate.toString('base64').replace(/.{64}/g, '$&\n');
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { key, cert: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n` };
}

const server = selfSigned('server.dc1.consul');
const client = selfSigned('client.dc1.consul');
const stranger = selfSigned('server.dc1.consul');

let t: TestServer;
before(async () => {
  // verify_incoming: clients must present a certificate the server trusts.
  t = await startServer(HOST, {
    transport: tlsTransport({
      server: {
        key: server.key,
        cert: server.cert,
        ca: [client.cert],
        requestCert: true,
        rejectUnauthorized: true,
      },
    }),
  });
});
after(() => t.server.close());

test('the generated certificate is a valid X.509 certificate for the server address', () => {
  const x509 = new X509Certificate(server.cert);
  assert.equal(x509.subject, 'CN=server.dc1.consul');
  assert.equal(x509.checkIP(HOST), HOST);
  assert.equal(x509.verify(x509.publicKey), true);
});

test('calls round-trip over mutual TLS', async () => {
  const rpc = t.client({
    transport: tlsTransport({ client: { ca: [server.cert], key: client.key, cert: client.cert } }),
  });
  assert.deepEqual(await rpc.call('Test.Echo', { Key: 'tls', Value: Buffer.from([1, 2, 3]) }), {
    Key: 'tls',
    Value: Buffer.from([1, 2, 3]),
  });
  assert.deepEqual(await Promise.all([1, 2, 3].map((n) => rpc.call('Test.Echo', n))), [1, 2, 3]);
  rpc.close();
});

test('a client that does not trust the server certificate cannot connect', async () => {
  const rpc = t.client({
    transport: tlsTransport({ client: { ca: [stranger.cert], key: client.key, cert: client.cert } }),
  });
  await assert.rejects(rpc.call('Test.Echo', 1), (error) => {
    return error instanceof RpcConnectionError && /self[- ]signed|unable to verify/i.test(error.message);
  });
  rpc.close();
});

test('a client without a trusted certificate, or without TLS, is turned away and counted', async () => {
  const anonymous = t.client({ transport: tlsTransport({ client: { ca: [server.cert] } }) });
  await assert.rejects(anonymous.call('Test.Echo', 1), RpcConnectionError);
  anonymous.close();
  const plain = t.client({ connectTimeoutMs: 1000 });
  await assert.rejects(plain.call('Test.Echo', 1, { timeoutMs: 1000 }), RpcConnectionError);
  plain.close();
  // Three handshakes have failed on the server in this file: these two and the distrustful client's,
  // whose alert may reach the server after that test ended.
  const failedHandshakes = () => counter(t.registry, 'consul_rpc_request_error', { reason: 'tls' });
  for (const deadline = Date.now() + 2000; (await failedHandshakes()) < 3 && Date.now() < deadline; ) {
    await sleep(10);
  }
  assert.equal(await failedHandshakes(), 3);
});
