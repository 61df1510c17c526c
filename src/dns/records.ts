import { isIP } from 'node:net';
import type dnsPacket from 'dns-packet';
import { QTYPE } from './wire.ts';

// Resource records as Consul makes them, in dns-packet's shapes.

export type RR = dnsPacket.Answer;

/** Which addresses a question takes (Consul's TranslateAddressAccept): an A question wants IPv4... */
export interface Accept {
  ipv4: boolean;
  ipv6: boolean;
}

export function acceptFor(qtype: number): Accept {
  if (qtype === QTYPE.A) return { ipv4: true, ipv6: false };
  if (qtype === QTYPE.AAAA) return { ipv4: false, ipv6: true };
  return { ipv4: true, ipv6: true };
}

/**
 * The address to answer with among a default and the tagged lan_ipv4/lan_ipv6 ones (Consul's
 * translateAddressAccept): the tagged address of the family asked for, IPv6 first, else the default.
 */
export function pickAddress(
  accept: Accept,
  def: string,
  v4: string | undefined,
  v6: string | undefined,
): string {
  if (accept.ipv6 && v6) return v6;
  if (accept.ipv4 && v4) return v4;
  return def;
}

/** Question types that get A records for an IPv4 address (Consul's makeARecord), and AAAA for IPv6. */
const A_TYPES = new Set<number>([QTYPE.SRV, QTYPE.A, QTYPE.ANY, QTYPE.NS, QTYPE.TXT]);
const AAAA_TYPES = new Set<number>([QTYPE.SRV, QTYPE.AAAA, QTYPE.ANY, QTYPE.NS, QTYPE.TXT]);

/** An A or AAAA record for `ip` if the question takes that family, else undefined. */
export function addressRecord(qtype: number, name: string, ip: string, ttl: number): RR | undefined {
  // Go's net.IP treats an IPv4-mapped IPv6 address as IPv4.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped ? mapped[1]! : ip;
  const family = isIP(v4);
  if (family === 4) return A_TYPES.has(qtype) ? { type: 'A', name, ttl, class: 'IN', data: v4 } : undefined;
  if (family === 6 && AAAA_TYPES.has(qtype)) return { type: 'AAAA', name, ttl, class: 'IN', data: ip };
  return undefined;
}

export function srvRecord(name: string, ttl: number, weight: number, port: number, target: string): RR {
  return {
    type: 'SRV',
    name,
    ttl,
    class: 'IN',
    data: { priority: 1, weight: clamp16(weight), port: clamp16(port), target },
  };
}

export function cnameRecord(name: string, ttl: number, target: string): RR {
  return { type: 'CNAME', name, ttl, class: 'IN', data: target };
}

export function ptrRecord(name: string, ttl: number, target: string): RR {
  return { type: 'PTR', name, ttl, class: 'IN', data: target };
}

export function nsRecord(name: string, ttl: number, target: string): RR {
  return { type: 'NS', name, ttl, class: 'IN', data: target };
}

export interface SoaTimers {
  refresh: number;
  retry: number;
  expire: number;
  minTtl: number;
}

/** The zone's SOA: ns.<zone> and hostmaster.<zone>, the serial the current Unix time, TTL the minimum TTL. */
export function soaRecord(zone: string, timers: SoaTimers): RR {
  return {
    type: 'SOA',
    name: zone,
    ttl: timers.minTtl,
    class: 'IN',
    data: {
      mname: `ns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: Math.floor(Date.now() / 1000) >>> 0,
      refresh: timers.refresh,
      retry: timers.retry,
      expire: timers.expire,
      minimum: timers.minTtl,
    },
  };
}

/** A node's metadata as TXT records: `key=value` (RFC 1464), or the bare value for `rfc1035-` keys. */
export function metaTxtRecords(name: string, meta: Readonly<Record<string, string>>, ttl: number): RR[] {
  return Object.entries(meta).map(([key, value]) => ({
    type: 'TXT',
    name,
    ttl,
    class: 'IN',
    data: characterStrings(key.toLowerCase().startsWith('rfc1035-') ? value : rfc1464(key, value)),
  }));
}

/** RFC 1464: backquote backquotes and equals signs in the key, and its leading and trailing spaces. */
export function rfc1464(key: string, value: string): string {
  let escaped = key.replaceAll('`', '``').replaceAll('=', '`=');
  escaped = escaped.replace(/^ +/, (spaces) => '` '.repeat(spaces.length));
  escaped = escaped.replace(/ +$/, (spaces) => '` '.repeat(spaces.length));
  return `${escaped}=${value.replaceAll('`', '``')}`;
}

/** A TXT record's text as character-strings of at most 255 bytes each. */
function characterStrings(text: string): Buffer[] {
  const bytes = Buffer.from(text);
  const strings: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 255)
    strings.push(bytes.subarray(offset, offset + 255));
  return strings.length > 0 ? strings : [Buffer.alloc(0)];
}

const clamp16 = (value: number): number =>
  Number.isInteger(value) && value >= 0 ? Math.min(value, 65535) : 0;

/**
 * Whether a name can go on the wire as it is: labels of 1 to 63 bytes of printable ASCII, 255 bytes in all.
 * Names made from catalog data (node names, service addresses) are checked before they are used.
 */
export function encodableName(name: string): boolean {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return true;
  if (trimmed.length + 2 > 255 || !/^[\x21-\x7e]+$/.test(trimmed)) return false;
  return trimmed.split('.').every((label) => label.length >= 1 && label.length <= 63);
}
