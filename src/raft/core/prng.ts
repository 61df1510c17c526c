/** The only source of randomness the core uses: injected, so a seed replays a run exactly. */
export interface Random {
  /** A uniformly distributed integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** A uniformly distributed number in [0, 1). */
  float(): number;
}

/** A small, fast, seedable generator (mulberry32): good enough for timeouts and simulations, not for crypto. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const float = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { float, int: (maxExclusive) => Math.floor(float() * maxExclusive) };
}
