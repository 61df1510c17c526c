import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

// Hosts in their own network namespaces, each joined by a veth pair to a bridge in the test's namespace, so
// the test reaches every host while links between hosts can be cut with iptables inside a host's namespace.

const run = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' });

/** Why a lab cannot be built here, or false when it can (root, iproute2 and iptables). */
export function netlabUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    run('ip', '-V');
    run('iptables', '--version');
  } catch {
    return 'iproute2 and iptables are needed for network namespaces';
  }
  return false;
}

export class NetLab {
  readonly hosts: string[];
  private readonly tag = randomBytes(3).toString('hex');
  private readonly subnet = `10.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;

  constructor(count: number) {
    this.hosts = Array.from({ length: count }, (_, i) => `${this.subnet}.${10 + i}`);
  }

  private get bridge(): string {
    return `trb${this.tag}`;
  }

  namespaceOf(host: string): string {
    return `trn${this.tag}${this.hosts.indexOf(host)}`;
  }

  /** The command prefix that runs a process inside the host's namespace. */
  launcher(host: string): string[] {
    return ['ip', 'netns', 'exec', this.namespaceOf(host)];
  }

  create(): void {
    run('ip', 'link', 'add', this.bridge, 'type', 'bridge');
    run('ip', 'addr', 'add', `${this.subnet}.1/24`, 'dev', this.bridge);
    run('ip', 'link', 'set', this.bridge, 'up');
    this.hosts.forEach((host, i) => {
      const ns = this.namespaceOf(host);
      const outside = `trv${this.tag}${i}`;
      run('ip', 'netns', 'add', ns);
      run('ip', 'link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      run('ip', 'link', 'set', outside, 'master', this.bridge, 'up');
      run('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${host}/24`, 'dev', 'eth0');
      run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
      run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    });
  }

  /** Drops every packet between `host` and each of `others`, both ways; the test's own address stays reachable. */
  isolate(host: string, others: string[]): void {
    const ns = this.namespaceOf(host);
    for (const other of others) {
      run('ip', 'netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-s', other, '-j', 'DROP');
      run('ip', 'netns', 'exec', ns, 'iptables', '-A', 'OUTPUT', '-d', other, '-j', 'DROP');
    }
  }

  heal(): void {
    for (const host of this.hosts) {
      for (const chain of ['INPUT', 'OUTPUT']) {
        run('ip', 'netns', 'exec', this.namespaceOf(host), 'iptables', '-F', chain);
      }
    }
  }

  destroy(): void {
    for (const host of this.hosts) {
      try {
        run('ip', 'netns', 'del', this.namespaceOf(host));
      } catch {
        // Already gone: a half-built lab is torn down as far as it got.
      }
    }
    try {
      run('ip', 'link', 'del', this.bridge);
    } catch {
      // As above.
    }
  }
}
