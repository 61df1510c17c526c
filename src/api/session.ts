// Consul's session endpoints as its Go client uses them for locks: create, renew (undefined once the session
// is gone), destroy, and RenewPeriodic, which keeps a TTL session alive until told to stop.
import { z } from 'zod';
import { parseDuration } from '../util/duration.ts';
import { sleep } from '../util/sleep.ts';
import { type ApiClient, ApiError, pathEscape } from './client.ts';

/** What a lock's session is created with; the agent fills in the rest (its node, serfHealth, 15 s lock-delay). */
export interface SessionEntry {
  Name: string;
  TTL: string;
  Behavior?: 'release' | 'delete';
}

const createdSchema = z.object({ ID: z.string() });
const renewedSchema = z.array(z.object({ TTL: z.string() }));

/** Go's api.ErrSessionExpired: the session is gone, so renewing it cannot succeed. */
export class SessionExpiredError extends Error {
  constructor() {
    super('session expired');
  }
}

export class Sessions {
  constructor(private readonly api: ApiClient) {}

  async create(entry: SessionEntry): Promise<string> {
    return (await this.api.put('/v1/session/create', createdSchema, { body: entry })).ID;
  }

  /** The session's TTL after renewing it, or undefined when the session no longer exists. */
  async renew(id: string): Promise<string | undefined> {
    try {
      const renewed = await this.api.put(`/v1/session/renew/${pathEscape(id)}`, renewedSchema);
      return renewed[0]?.TTL;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async destroy(id: string): Promise<void> {
    await this.api.writeIgnoringBody('PUT', `/v1/session/destroy/${pathEscape(id)}`);
  }

  /**
   * Consul's RenewPeriodic: renews every half TTL (the server may change the TTL), retries a failed renewal
   * every second for as long as the session can still be alive, and destroys the session when `stop` aborts.
   * Resolves when stopped; rejects when the session expired or could not be renewed within its TTL.
   */
  async renewPeriodic(id: string, initialTtl: string, stop: AbortSignal): Promise<void> {
    let ttlMs = parseDuration(initialTtl) / 1e6;
    let waitMs = ttlMs / 2;
    let lastRenewed = Date.now();
    let lastError: unknown;
    for (;;) {
      if (Date.now() - lastRenewed > ttlMs) throw lastError;
      if (!(await sleep(waitMs, stop))) {
        await this.destroy(id).catch(() => undefined);
        return;
      }
      let ttl: string | undefined;
      try {
        ttl = await this.renew(id);
      } catch (err) {
        waitMs = 1000;
        lastError = err;
        continue;
      }
      if (ttl === undefined) throw new SessionExpiredError();
      ttlMs = parseDuration(ttl) / 1e6;
      waitMs = ttlMs / 2;
      lastRenewed = Date.now();
    }
  }
}
