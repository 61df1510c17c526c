import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { HealthStatus } from '../../state/types.ts';
import { CHECK_OUTPUT_LIMIT, truncateOutput } from '../check-output.ts';
import { probeGrpc } from './grpc.ts';
import type { GrpcTarget, HttpTarget, ScheduledSpec } from './spec.ts';

// One run of an active check, with Consul's status rules and output texts: HTTP 2xx passing, 429 warning,
// anything else critical; TCP connect success passing; gRPC health SERVING passing, anything else or an error
// critical; script exit 0 passing, 1 warning, else critical.

export interface ProbeResult {
  status: HealthStatus;
  output: string;
}

export function probe(spec: ScheduledSpec): Promise<ProbeResult> {
  switch (spec.kind) {
    case 'http':
      return probeHttp(spec.http, spec.timeoutMs);
    case 'tcp':
      return probeTcp(spec.address, spec.timeoutMs);
    case 'udp':
      return probeUdp(spec.address, spec.timeoutMs);
    case 'grpc':
      return probeGrpcHealth(spec.grpc, spec.timeoutMs);
    case 'script':
      return probeScript(spec.args, spec.timeoutMs);
  }
}

function probeHttp(target: HttpTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const url = new URL(target.url);
    const client = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string[]> = {
      'User-Agent': ['Consul Health Check'],
      Accept: ['text/plain, text/*, */*'],
      ...target.headers,
    };
    const request = client.request(
      url,
      {
        method: target.method,
        headers,
        timeout: timeoutMs,
        rejectUnauthorized: !target.tlsSkipVerify,
        ...(target.tlsServerName ? { servername: target.tlsServerName } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < CHECK_OUTPUT_LIMIT) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => {
          const code = response.statusCode ?? 0;
          const body = truncateOutput(Buffer.concat(chunks).toString('utf8'));
          const status: HealthStatus =
            code >= 200 && code < 300 ? 'passing' : code === 429 ? 'warning' : 'critical';
          resolve({
            status,
            output: `HTTP ${target.method} ${target.url}: ${code} ${response.statusMessage ?? ''} Output: ${body}`,
          });
        });
        response.on('error', (err) =>
          resolve(critical(`HTTP ${target.method} ${target.url}: ${err.message}`)),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
    request.on('error', (err) => resolve(critical(`HTTP ${target.method} ${target.url}: ${err.message}`)));
    request.end(target.body || undefined);
  });
}

function probeTcp(address: string, timeoutMs: number): Promise<ProbeResult> {
  const { host, port } = splitHostPort(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done({ status: 'passing', output: `TCP connect ${address}: Success` }));
    socket.once('timeout', () => done(critical(`dial tcp ${address}: i/o timeout`)));
    socket.once('error', (err) => done(critical(`dial tcp ${address}: ${err.message}`)));
  });
}

/** UDP has no handshake: a send that draws no ICMP error within the timeout counts as reachable. */
function probeUdp(address: string, timeoutMs: number): Promise<ProbeResult> {
  const { host, port } = splitHostPort(address);
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const timer = setTimeout(
      () => done({ status: 'passing', output: `UDP connect ${address}: Success` }),
      timeoutMs,
    );
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    socket.on('message', () => done({ status: 'passing', output: `UDP connect ${address}: Success` }));
    socket.on('error', (err) => done(critical(`UDP ${address}: ${err.message}`)));
    socket.connect(port, host, () =>
      socket.send(Buffer.from('PING'), (err) => err && done(critical(`UDP ${address}: ${err.message}`))),
    );
  });
}

async function probeGrpcHealth(target: GrpcTarget, timeoutMs: number): Promise<ProbeResult> {
  const { passing, output } = await probeGrpc(target, timeoutMs);
  return { status: passing ? 'passing' : 'critical', output };
}

function probeScript(args: string[], timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const [command, ...rest] = args;
    const child = spawn(command!, rest, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < CHECK_OUTPUT_LIMIT * 2) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => resolve(critical(`Failed to start check script: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') return resolve(critical(`Timed out (${timeoutMs / 1000}s) running check`));
      const status: HealthStatus = code === 0 ? 'passing' : code === 1 ? 'warning' : 'critical';
      resolve({ status, output: truncateOutput(output) });
    });
  });
}

function critical(output: string): ProbeResult {
  return { status: 'critical', output };
}

export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  if (!match) throw new Error(`address ${address}: missing port in address`);
  return { host: match[1]!, port: Number(match[2]) };
}
