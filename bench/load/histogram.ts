// An HDR-style latency histogram: log-linear buckets over microseconds (64 sub-buckets per power of two,
// so any recorded value is within 1/64 ≈ 1.6% of its bucket's midpoint), fixed memory, O(1) record.
// Values up to 2^32 µs (over an hour) fit.

const SUB_BUCKETS = 64;
const LINEAR_LIMIT = 2 * SUB_BUCKETS; // values below 128 µs are exact
const BUCKETS = LINEAR_LIMIT + 32 * SUB_BUCKETS;

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  private maxUs = 0;

  recordMs(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    this.counts[indexOf(us)]!++;
    this.count++;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The value at quantile q (0…1) in milliseconds. */
  quantileMs(q: number): number {
    if (this.count === 0) return Number.NaN;
    if (q >= 1) return this.maxUs / 1000;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= Math.max(1, rank)) return Math.min(bucketValue(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }
}

function indexOf(us: number): number {
  if (us < LINEAR_LIMIT) return us;
  const magnitude = 31 - Math.clz32(Math.min(us, 0xffffffff)); // ≥ 7
  const shift = magnitude - 6;
  return Math.min(BUCKETS - 1, shift * SUB_BUCKETS + (us >>> shift));
}

/** The midpoint of bucket `index`, in microseconds. */
function bucketValue(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = Math.floor(index / SUB_BUCKETS) - 1;
  const sub = index - shift * SUB_BUCKETS;
  return sub * 2 ** shift + 2 ** (shift - 1);
}
