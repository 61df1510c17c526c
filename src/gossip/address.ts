import { isIPv4, isIPv6 } from 'node:net';

// memberlist carries addresses as raw bytes (4 for IPv4, 16 for IPv6); sockets want text.

export function ipToBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head, tail = ''] = ip.split('::') as [string, string?];
  const groups = (part: string) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(tail ?? '');
  const missing = 8 - left.length - right.length;
  const all = ip.includes('::') ? [...left, ...Array(missing).fill('0'), ...right] : left;
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) throw new Error(`an address of ${bytes.length} bytes`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** `host:port` or `[v6]:port` into its parts; `defaultPort` when there is none. */
export function splitHostPort(address: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(address);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const colons = address.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = address.split(':') as [string, string];
    return { host, port: Number(port) };
  }
  return { host: address, port: defaultPort };
}
