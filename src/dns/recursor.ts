import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import { formatAddress } from '../rpc/transport.ts';
import type { Recursor } from './options.ts';
import type { RR } from './records.ts';

// Names outside the domain go to the configured recursors, over UDP, one after the other (Consul's sequential
// strategy): the first answer that is NOERROR or NXDOMAIN (or truncated) is handed back as the recursor sent
// it; a recursor that times out, fails to answer sensibly or answers with another code is skipped. Each
// exchange uses a fresh socket and checks the reply's source port and ID, so a stray datagram cannot pose as
// the answer.

const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;
const TC = 0x0200;
/** Forwarded queries in flight at once; beyond this a query fails at once rather than holding sockets. */
const MAX_IN_FLIGHT = 512;

export class Recursors {
  private inFlight = 0;

  constructor(
    readonly list: readonly Recursor[],
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  get enabled(): boolean {
    return this.list.length > 0;
  }

  /** The first usable reply to `packet` (a whole query) from the recursors in turn, or undefined. */
  async forward(packet: Buffer): Promise<Buffer | undefined> {
    if (this.inFlight >= MAX_IN_FLIGHT) return undefined;
    this.inFlight++;
    try {
      const id = packet.readUInt16BE(0);
      for (const recursor of this.list) {
        const reply = await this.exchange(recursor, packet, id);
        if (!reply) continue;
        const flags = reply.readUInt16BE(2);
        const rcode = flags & 0xf;
        if (rcode === RCODE_NOERROR || rcode === RCODE_NXDOMAIN || flags & TC) return reply;
        this.log.debug(
          { recursor: address(recursor), rcode },
          'recursor answered with an error; trying the next',
        );
      }
      return undefined;
    } finally {
      this.inFlight--;
    }
  }

  /** The answer records for `name`'s A records (to follow a CNAME out of the domain), or none. */
  async lookupA(name: string): Promise<RR[]> {
    const query = dnsPacket.encode({
      id: randomInt(0, 65536),
      type: 'query',
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name, class: 'IN' }],
    });
    const reply = await this.forward(query);
    if (!reply) return [];
    try {
      return dnsPacket.decode(reply).answers ?? [];
    } catch {
      return [];
    }
  }

  private exchange(recursor: Recursor, packet: Buffer, id: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const socket = createSocket(isIP(recursor.host) === 6 ? 'udp6' : 'udp4');
      let settled = false;
      const finish = (reply: Buffer | undefined, err?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.close();
        if (err) this.log.debug({ err, recursor: address(recursor) }, 'recursor exchange failed');
        resolve(reply);
      };
      const timer = setTimeout(() => finish(undefined, new Error('timed out')), this.timeoutMs);
      socket.on('error', (err) => finish(undefined, err));
      socket.on('message', (reply, from) => {
        if (from.port !== recursor.port || reply.length < 12) return;
        if (reply.readUInt16BE(0) !== id || !(reply.readUInt16BE(2) & 0x8000)) return;
        finish(reply);
      });
      socket.send(packet, recursor.port, recursor.host, (err) => {
        if (err) finish(undefined, err);
      });
    });
  }
}

const address = (r: Recursor): string => formatAddress(r.host, r.port);
