// Go's time.Duration in text and numbers. Consul's JSON carries durations either as Go strings ("15s",
// "1m30s") or as integer nanoseconds, so both directions are needed to stay byte-compatible.

const NS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const TERM_PATTERN = /^(\d+\.?\d*|\.\d+)([^\d.]*)/;

export class DurationError extends Error {}

/** Parses a Go duration string ("1h2m3.5s", "300ms", "0") into nanoseconds. */
export function parseDuration(text: string): number {
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new DurationError(`time: invalid duration "${text}"`);
  let total = 0;
  while (rest.length > 0) {
    const match = TERM_PATTERN.exec(rest);
    if (!match) throw new DurationError(`time: invalid duration "${text}"`);
    const unit = match[2]!;
    if (unit === '') throw new DurationError(`time: missing unit in duration "${text}"`);
    const scale = NS_PER_UNIT[unit];
    if (scale === undefined) throw new DurationError(`time: unknown unit "${unit}" in duration "${text}"`);
    total += Number(match[1]) * scale;
    rest = rest.slice(match[0].length);
  }
  return sign * Math.round(total);
}

/** Accepts what Go's JSON decoder accepts for a duration field in Consul's API: a string or nanoseconds. */
export function durationFromJson(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string') return parseDuration(value);
  throw new DurationError(`invalid duration ${JSON.stringify(value)}`);
}

/** Formats nanoseconds the way Go's Duration.String does ("15s", "1m0s", "24h0m0s", "1.5ms"). */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const negative = ns < 0;
  let n = Math.abs(Math.round(ns));
  let out: string;
  if (n < 1e9) {
    const [unit, size] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = trimFraction(n / (size as number)) + unit;
  } else {
    const hours = Math.floor(n / 3600e9);
    n -= hours * 3600e9;
    const minutes = Math.floor(n / 60e9);
    n -= minutes * 60e9;
    const seconds = trimFraction(n / 1e9);
    out =
      hours > 0 ? `${hours}h${minutes}m${seconds}s` : minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
  }
  return negative ? `-${out}` : out;
}

function trimFraction(value: number): string {
  return String(Number(value.toFixed(9)));
}

export const SECOND = 1e9;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
