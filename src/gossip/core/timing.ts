// The cluster-size scaling rules of memberlist (util.go, suspicion.go), in milliseconds.

/** memberlist starts stretching the push/pull interval above this many nodes. */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/** The least suspicion time: mult × max(1, log10(n)) × probe interval (log10 kept to three decimals). */
export function suspicionTimeout(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return (suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs) / 1000;
}

/** How many times a broadcast is sent: mult × ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** The push/pull interval, multiplied by ceil(log2(n) − log2(32)) + 1 once the cluster exceeds 32 nodes. */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/**
 * Lifeguard's accelerated suspicion: with `n` of the `k` wanted independent confirmations, the timeout
 * falls from `max` toward `min` as log(n + 1) / log(k + 1), whole milliseconds, never below `min`. Returns
 * what is left after `elapsed` (negative when it is already over).
 */
export function remainingSuspicionTime(
  n: number,
  k: number,
  elapsedMs: number,
  minMs: number,
  maxMs: number,
): number {
  const fraction = Math.log(n + 1) / Math.log(k + 1);
  const raw = maxMs - fraction * (maxMs - minMs);
  const timeout = Math.max(minMs, Math.floor(raw));
  return timeout - elapsedMs;
}
