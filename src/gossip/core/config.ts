/**
 * The membership core's tunables, memberlist's Config fields that shape the protocol (times in milliseconds).
 * `defaultLANConfig`, `defaultWANConfig` and `defaultLocalConfig` carry memberlist's defaults.
 */
export interface GossipConfig {
  /** Time between probes of the next member in the round-robin (scaled up by the awareness score). */
  probeIntervalMs: number;
  /** Time to wait for a direct ack before asking other members to probe indirectly (not scaled). */
  probeTimeoutMs: number;
  /** Members asked to probe a member that missed its direct ack. */
  indirectChecks: number;
  /** Broadcasts are sent retransmitMult × ceil(log10(n + 1)) times. */
  retransmitMult: number;
  /** Suspicion lasts at least suspicionMult × max(1, log10(n)) × probeInterval... */
  suspicionMult: number;
  /** ...and at most suspicionMaxTimeoutMult times that, when no other member confirms the suspicion. */
  suspicionMaxTimeoutMult: number;
  /** Period of full state exchanges with a random member, stretched for clusters above 32 nodes; 0 disables. */
  pushPullIntervalMs: number;
  /** Period of piggyback-free gossip; 0 disables. */
  gossipIntervalMs: number;
  /** Members gossiped to each gossip interval. */
  gossipNodes: number;
  /** How long a dead member still receives gossip (a chance to refute) and stays in the member table. */
  gossipToTheDeadTimeMs: number;
  /** Health score bound: probe intervals stretch up to this many times when this node looks unhealthy. */
  awarenessMaxMultiplier: number;
  /** When false, a member that missed its UDP probes is also pinged over a stream (it understands pmax ≥ 3). */
  disableTcpPings: boolean;
  /** Largest packet the core fills with gossip, memberlist's UDPBufferSize. */
  udpBufferSize: number;
  /** Bytes each packet loses to wrapping the core does not see (encryption: 29 with AES-GCM v1; labels). */
  packetOverhead: number;
  /** After this long dead, a member's name may be claimed by another address; 0 never allows it. */
  deadNodeReclaimTimeMs: number;
  /** Stream (push/pull, TCP ping) deadline the driver should apply; the core only hands it on. */
  tcpTimeoutMs: number;
}

export const defaultLANConfig: Readonly<GossipConfig> = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  retransmitMult: 4,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  pushPullIntervalMs: 30_000,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadTimeMs: 30_000,
  awarenessMaxMultiplier: 8,
  disableTcpPings: false,
  udpBufferSize: 1400,
  packetOverhead: 0,
  deadNodeReclaimTimeMs: 0,
  tcpTimeoutMs: 10_000,
};

/** memberlist's DefaultWANConfig: slower probes, longer suspicion, one more gossip target. */
export const defaultWANConfig: Readonly<GossipConfig> = {
  ...defaultLANConfig,
  tcpTimeoutMs: 30_000,
  suspicionMult: 6,
  pushPullIntervalMs: 60_000,
  probeTimeoutMs: 3000,
  probeIntervalMs: 5000,
  gossipNodes: 4,
  gossipIntervalMs: 500,
  gossipToTheDeadTimeMs: 60_000,
};

/** memberlist's DefaultLocalConfig, for loopback clusters in tests. */
export const defaultLocalConfig: Readonly<GossipConfig> = {
  ...defaultLANConfig,
  tcpTimeoutMs: 1000,
  indirectChecks: 1,
  retransmitMult: 2,
  suspicionMult: 3,
  pushPullIntervalMs: 15_000,
  probeTimeoutMs: 200,
  probeIntervalMs: 1000,
  gossipIntervalMs: 100,
  gossipToTheDeadTimeMs: 15_000,
};

const nonNegative: (keyof GossipConfig)[] = [
  'pushPullIntervalMs',
  'gossipIntervalMs',
  'gossipNodes',
  'gossipToTheDeadTimeMs',
  'packetOverhead',
  'deadNodeReclaimTimeMs',
  'indirectChecks',
];

/** `base` (LAN by default) with `overrides`, checked. */
export function resolveConfig(
  overrides: Partial<GossipConfig> = {},
  base: Readonly<GossipConfig> = defaultLANConfig,
): GossipConfig {
  const config = { ...base, ...overrides };
  const problems: string[] = [];
  for (const [name, value] of Object.entries(config)) {
    if (typeof value !== 'number') continue;
    const allowZero = nonNegative.includes(name as keyof GossipConfig);
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
      problems.push(`${name} must be ${allowZero ? 'zero or more' : 'positive'}`);
    }
  }
  if (config.probeTimeoutMs > config.probeIntervalMs) {
    problems.push('probeTimeoutMs must not exceed probeIntervalMs');
  }
  if (!Number.isInteger(config.awarenessMaxMultiplier)) problems.push('awarenessMaxMultiplier must be whole');
  if (config.udpBufferSize - config.packetOverhead < 64) problems.push('udpBufferSize leaves no room');
  if (problems.length > 0) throw new Error(`invalid gossip config: ${problems.join('; ')}`);
  return config;
}
