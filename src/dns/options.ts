import { isIP } from 'node:net';
import type { AgentConfig, DnsConfig } from '../agent/config.ts';

// What the DNS server runs with, resolved once from the agent's configuration: zones as lower-case label lists,
// recursors as host and port, TTLs in seconds.

export interface Recursor {
  host: string;
  port: number;
}

export interface DnsOptions {
  /** The zone as configured, lower case, without the trailing dot ("consul"). */
  domain: string;
  /** The alternate zone, or undefined. */
  altDomain: string | undefined;
  datacenter: string;
  nodeName: string;
  recursors: Recursor[];
  config: DnsConfig;
  /** node_ttl in whole seconds. */
  nodeTtl: number;
  /** The TTL of a service's records in whole seconds: service_ttl by name, else by longest `*` prefix, else 0. */
  serviceTtl(service: string): number;
}

export class DnsOptionsError extends Error {
  override name = 'DnsOptionsError';
}

export function dnsOptions(config: AgentConfig): DnsOptions {
  const dns = config.dnsConfig;
  const strict = new Map<string, number>();
  const prefixes: [string, number][] = [];
  for (const [key, ms] of Object.entries(dns.serviceTtlMs)) {
    if (key.endsWith('*')) prefixes.push([key.slice(0, -1), seconds(ms)]);
    else strict.set(key, seconds(ms));
  }
  // Longest prefix first, so the first match is the longest (Consul keeps them in a radix tree).
  prefixes.sort((a, b) => b[0].length - a[0].length);
  const ttlCache = new Map<string, number>();
  return {
    domain: zone(config.domain),
    altDomain: config.altDomain ? zone(config.altDomain) : undefined,
    datacenter: config.datacenter.toLowerCase(),
    nodeName: config.nodeName,
    recursors: config.recursors.map(parseRecursor),
    config: dns,
    nodeTtl: seconds(dns.nodeTtlMs),
    serviceTtl(service) {
      let ttl = ttlCache.get(service);
      if (ttl === undefined) {
        ttl = strict.get(service) ?? prefixes.find(([prefix]) => service.startsWith(prefix))?.[1] ?? 0;
        if (ttlCache.size < 10_000) ttlCache.set(service, ttl);
      }
      return ttl;
    },
  };
}

const zone = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** A TTL field holds whole seconds (Go's uint32(ttl / time.Second)). */
const seconds = (ms: number): number => Math.min(0xffffffff, Math.floor(ms / 1000));

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address; port 53 when none is given. */
export function parseRecursor(text: string): Recursor {
  const value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) return { host: bracketed[1]!, port: port(bracketed[2], text) };
  if (isIP(value) === 6) return { host: value, port: 53 };
  const match = /^([^:\s]+)(?::(\d+))?$/.exec(value);
  if (!match) throw new DnsOptionsError(`Invalid recursor address: ${text}`);
  return { host: match[1]!, port: port(match[2], text) };
}

function port(text: string | undefined, address: string): number {
  if (text === undefined) return 53;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new DnsOptionsError(`Invalid recursor address: ${address}: bad port`);
  return value;
}
