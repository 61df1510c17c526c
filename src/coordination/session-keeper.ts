import type { ApiClient } from '../api/client.ts';
import { type SessionEntry, Sessions } from '../api/session.ts';

// The session a lock or semaphore creates for itself when it is given none, kept alive by periodic renewal
// (Consul's RenewPeriodic) and destroyed when the lock lets go, which frees what it still holds.

export class SessionKeeper {
  private constructor(
    readonly id: string,
    private readonly renewal: Promise<void>,
    private readonly stopRenewal: AbortController,
  ) {}

  static async start(client: ApiClient, entry: SessionEntry): Promise<SessionKeeper> {
    const sessions = new Sessions(client);
    const id = await sessions.create(entry);
    const stop = new AbortController();
    // A renewal that fails ends quietly: the lock's monitor sees the session's keys go and reports the loss.
    const renewal = sessions.renewPeriodic(id, entry.TTL, stop.signal).catch(() => undefined);
    return new SessionKeeper(id, renewal, stop);
  }

  /** Stops renewing and destroys the session; resolves once it is destroyed (or could not be). */
  async stop(): Promise<void> {
    this.stopRenewal.abort();
    await this.renewal;
  }
}
