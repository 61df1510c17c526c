// Loopback addresses and polling. Each cluster the bench starts gets a fresh block of 127.a.b.1…n: every
// member can use its system's fixed ports, and a new block per start never meets the TIME_WAIT sockets or
// half-dead listeners of the previous round (nor the random 127.x.y.z the test suite uses beside it).

const FIRST_OCTET = 200 + Math.floor(Math.random() * 50);
let nextBlock = 1 + Math.floor(Math.random() * 100);

/** `count` addresses 127.a.b.1…count, a new b for every call. */
export function loopbackBlock(count: number): string[] {
  const block = nextBlock++ % 250;
  return Array.from({ length: count }, (_, i) => `127.${FIRST_OCTET}.${block}.${i + 1}`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 50,
  alive: () => boolean = () => true,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`a process exited while waiting for ${what}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** fetch with a timeout, for control-plane calls (never for measured load). */
export async function fetchText(
  url: string,
  init: RequestInit = {},
  timeoutMs = 2000,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
