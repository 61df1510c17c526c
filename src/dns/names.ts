import { QTYPE } from './wire.ts';

// Query names as Consul's DNS server reads them. The zone (domain, alt_domain, reverse-lookup "arpa", or
// elsewhere) picks the handler; inside the domain the kind label nearest the end (service, node, addr...)
// splits the name into what is looked up and where (the datacenter).

export type Zone =
  /** Inside the domain or the alt domain: `labels` are what precedes the zone, `zone` is the zone matched. */
  { kind: 'domain'; labels: string[]; zone: string } | { kind: 'arpa' } | { kind: 'outside' };

export function zoneOf(labels: string[], domain: string, altDomain: string | undefined): Zone {
  const zones = [domain, ...(altDomain ? [altDomain] : [])].sort((a, b) => b.length - a.length);
  for (const zone of zones) {
    const zoneLabels = zone.split('.');
    if (labels.length < zoneLabels.length) continue;
    const offset = labels.length - zoneLabels.length;
    if (zoneLabels.every((label, i) => labels[offset + i] === label)) {
      return { kind: 'domain', labels: labels.slice(0, offset), zone };
    }
  }
  if (labels[labels.length - 1] === 'arpa') return { kind: 'arpa' };
  return { kind: 'outside' };
}

/** A datacenter written in a name: nothing, `<dc>` or `<dc>.dc` (Consul's locality); peers are not served. */
export type Locality = { dc: string | undefined } | undefined;

export type Lookup =
  | { kind: 'service'; service: string; tag: string | undefined; dc: string | undefined; connect: boolean }
  | { kind: 'node'; node: string; dc: string | undefined }
  | { kind: 'addr'; ip: string; family: 4 | 6 }
  | { kind: 'query'; query: string; dc: string | undefined }
  /** Nothing Consul would look up (an unknown kind, a malformed name): NXDOMAIN. */
  | { kind: 'invalid' };

const KINDS = new Set(['service', 'connect', 'virtual', 'ingress', 'node', 'query', 'addr']);

/** Reads the labels in front of the zone (lower case) as Consul's dispatch does. */
export function parseLookup(labels: string[], qtype: number): Lookup {
  let kind: string | undefined;
  let parts: string[] = [];
  let suffixes: string[] = [];
  for (let i = labels.length - 1; i >= 0; i--) {
    const label = labels[i]!;
    if (KINDS.has(label)) {
      kind = label;
      parts = labels.slice(0, i);
      suffixes = labels.slice(i + 1);
      break;
    }
    // RFC 2782 names may leave out "service": _web._tcp[.dc].consul, for SRV questions.
    if (qtype === QTYPE.SRV && label.startsWith('_')) {
      kind = 'service';
      parts = labels.slice(0, i + 1);
      suffixes = labels.slice(i + 1);
      break;
    }
  }
  const invalid: Lookup = { kind: 'invalid' };
  switch (kind) {
    case 'service':
    case 'connect': {
      const locality = parseLocality(suffixes);
      if (!locality || parts.length === 0) return invalid;
      if (kind === 'connect') {
        return {
          kind: 'service',
          service: parts[parts.length - 1]!,
          tag: undefined,
          dc: locality.dc,
          connect: true,
        };
      }
      const [first, second] = parts;
      if (parts.length === 2 && first!.startsWith('_') && second!.startsWith('_')) {
        // _<service>._<tag>; the protocol label "tcp" means no tag.
        const tag = second!.slice(1);
        return {
          kind: 'service',
          service: first!.slice(1),
          tag: tag === 'tcp' ? undefined : tag,
          dc: locality.dc,
          connect: false,
        };
      }
      // [<tag>.]<service>, the tag possibly holding dots (Consul 0.3's form).
      const tag = parts.length >= 2 ? parts.slice(0, -1).join('.') : undefined;
      return { kind: 'service', service: parts[parts.length - 1]!, tag, dc: locality.dc, connect: false };
    }
    case 'node': {
      const locality = parseLocality(suffixes);
      if (!locality || parts.length === 0) return invalid;
      return { kind: 'node', node: parts.join('.'), dc: locality.dc };
    }
    case 'query': {
      if (parts.length === 0 || suffixes.length > 1) return invalid;
      const n = parts.length;
      const rfc2782 = n >= 2 && parts[0]!.startsWith('_') && parts[n - 1]!.startsWith('_');
      const query = rfc2782
        ? parts
            .slice(0, n - 1)
            .join('.')
            .slice(1)
        : parts.join('.');
      return { kind: 'query', query, dc: suffixes[0] };
    }
    case 'addr': {
      // <hex>.addr.<dc>.<domain>: 8 hex digits for IPv4, 32 for IPv6; the datacenter is not looked at.
      if (parts.length !== 1) return invalid;
      return parseHexAddress(parts[0]!) ?? invalid;
    }
    default:
      return invalid;
  }
}

function parseLocality(suffixes: string[]): { dc: string | undefined } | undefined {
  if (suffixes.length === 0) return { dc: undefined };
  if (suffixes.length === 1) return { dc: suffixes[0] };
  if (suffixes.length === 2 && suffixes[1] === 'dc') return { dc: suffixes[0] };
  return undefined;
}

function parseHexAddress(hex: string): Lookup | undefined {
  if (!/^[0-9a-f]+$/.test(hex)) return undefined;
  if (hex.length === 8) {
    const octets = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
    return { kind: 'addr', ip: octets.join('.'), family: 4 };
  }
  if (hex.length === 32) {
    const groups = [];
    for (let i = 0; i < 32; i += 4) groups.push(Number.parseInt(hex.slice(i, i + 4), 16).toString(16));
    return { kind: 'addr', ip: groups.join(':'), family: 6 };
  }
  return undefined;
}

/** The `<hex>` of an address's `.addr.` name: 8 hex digits for IPv4, 32 for IPv6. */
export function hexAddress(ip: string): string {
  if (ip.includes(':')) return expandIpv6(ip).join('');
  return ip
    .split('.')
    .map((octet) => Number(octet).toString(16).padStart(2, '0'))
    .join('');
}

/** The eight groups of an IPv6 address as four hex digits each (an embedded IPv4 tail converted). */
function expandIpv6(ip: string): string[] {
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number);
    text =
      text.slice(0, -v4[1]!.length) + `${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array(missing).fill('0'), ...tailGroups].map((g) => g.padStart(4, '0'));
}

/** The address a reverse-lookup name stands for (`4.3.2.1.in-addr.arpa`, nibbles of `ip6.arpa`), if any. */
export function addressOfArpa(labels: string[]): string | undefined {
  const n = labels.length;
  if (n === 6 && labels[4] === 'in-addr' && labels[5] === 'arpa') {
    const octets = labels.slice(0, 4).reverse();
    if (!octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return undefined;
    return octets.map(Number).join('.');
  }
  if (n === 34 && labels[32] === 'ip6' && labels[33] === 'arpa') {
    const nibbles = labels.slice(0, 32).reverse();
    if (!nibbles.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const groups = [];
    for (let i = 0; i < 32; i += 4)
      groups.push(Number.parseInt(nibbles.slice(i, i + 4).join(''), 16).toString(16));
    return groups.join(':');
  }
  return undefined;
}

/** Canonical text of an IP address for comparing (IPv6 fully expanded). */
export function canonicalIp(ip: string): string {
  return ip.includes(':') ? expandIpv6(ip).join(':') : ip;
}
