import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';

// DNS tests' tools: a dev agent whose DNS port the OS picks (read from its "DNS server listening" log line, as
// the dev-agent helper reads the HTTP one), dig, and a raw client that shows every header bit and section.

export interface DnsAgent {
  agent: DevAgent;
  host: string;
  port: number;
  /** host:port, for Resolver.setServers. */
  server: string;
}

/** A dev agent named `nodeName` (NS records skip names that are not DNS labels) with DNS on a free port. */
export async function startDnsAgent(extraArgs: string[] = [], nodeName = 'dns-dev'): Promise<DnsAgent> {
  const agent = await startDevAgent(['-node', nodeName, '-dns-port', '0', ...extraArgs]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const match =
      /"address":"([^"]+)","msg":"DNS server listening"|"msg":"DNS server listening".*?"address":"([^"]+)"/.exec(
        agent.output(),
      );
    if (match) {
      const server = (match[1] ?? match[2])!;
      const port = Number(server.split(':').pop());
      return { agent, host: agent.host, port, server };
    }
    if (Date.now() > deadline) {
      await agent.stop();
      throw new Error(`no DNS listening line:\n${agent.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const execFileAsync = promisify(execFile);

/** Runs dig against the agent and returns its output. */
export async function dig(dns: DnsAgent, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('dig', [
    `@${dns.host}`,
    '-p',
    String(dns.port),
    '+time=3',
    '+tries=1',
    ...args,
  ]);
  return stdout;
}

/** The records of one dig section ("+noall +answer" style output): [name, ttl, class, type, ...data]. */
export function digRecords(output: string): string[][] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map((line) => line.trim().split(/\s+/));
}

export interface RawQuery {
  name: string;
  type: dnsPacket.RecordType;
  /** EDNS UDP size; no OPT record when undefined. */
  edns?: number;
  tcp?: boolean;
  id?: number;
}

/** Sends a query and returns the decoded reply and its size. */
export async function query(
  dns: DnsAgent,
  q: RawQuery,
): Promise<{ reply: dnsPacket.DecodedPacket; size: number }> {
  const packet = dnsPacket.encode({
    id: q.id ?? Math.floor(Math.random() * 65536),
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: q.name, type: q.type, class: 'IN' }],
    additionals:
      q.edns === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: q.edns,
              flags: 0,
              options: [],
            } as unknown as dnsPacket.Answer,
          ],
  });
  const raw = q.tcp ? await exchangeTcp(dns, packet) : await exchangeUdp(dns, packet);
  if (!raw) throw new Error(`no reply to ${q.name} ${q.type}`);
  return { reply: dnsPacket.decode(raw), size: raw.length };
}

/** One UDP exchange; undefined when nothing comes back within `timeoutMs`. */
export function exchangeUdp(dns: DnsAgent, packet: Buffer, timeoutMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, timeoutMs);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(packet, dns.port, dns.host);
  });
}

/** One TCP exchange (2-byte length framing). */
export function exchangeTcp(dns: DnsAgent, packet: Buffer, timeoutMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = connect(dns.port, dns.host);
    let buffered = Buffer.alloc(0);
    const done = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        done(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      }
    });
    const frame = Buffer.alloc(2 + packet.length);
    frame.writeUInt16BE(packet.length, 0);
    packet.copy(frame, 2);
    socket.write(frame);
  });
}

export const flagSet = (reply: dnsPacket.DecodedPacket, flag: number): boolean =>
  ((reply.flags ?? 0) & flag) !== 0;
