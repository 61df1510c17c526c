import { performance } from 'node:perf_hooks';
import type { Consistency, LeaderContact, ReadGate } from '../../http/context.ts';
import { askLeader, type ForwardingOptions, onLeader, resolveForwarding } from './forwarding.ts';
import type { RaftServer } from './server.ts';
import { checkIndex, RaftMethod } from './wire.ts';

/**
 * When a read may be served from this server's state. `stale` reads at once. `default` and `consistent`
 * learn a read index from the leader (under its lease for `default`, else after a quorum confirms it still
 * leads) and wait until this server has applied that far, which makes the read linearizable here too.
 */
export class RaftReadGate implements ReadGate {
  private readonly forwarding: Required<ForwardingOptions>;

  constructor(
    private readonly server: RaftServer,
    options: ForwardingOptions = {},
  ) {
    this.forwarding = resolveForwarding(options);
  }

  async prepare(mode: Consistency): Promise<LeaderContact> {
    if (mode === 'stale') {
      return { knownLeader: this.server.leader() !== null, lastContactMs: this.server.lastContactMs() };
    }
    const started = performance.now();
    const index = await onLeader(this.server, this.forwarding.holdTimeoutMs, {
      local: () => this.server.readIndex(mode),
      remote: (client) =>
        askLeader(client, RaftMethod.readIndex, { mode }, checkIndex, this.forwarding.forwardTimeoutMs),
    });
    await this.caughtUp(index, this.forwarding.holdTimeoutMs - (performance.now() - started));
    return { knownLeader: true, lastContactMs: this.server.lastContactMs() };
  }

  private async caughtUp(index: number, timeoutMs: number): Promise<void> {
    // The usual case on the leader: no timer and no race for every read.
    if (this.server.hasApplied(index)) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`this server did not apply index ${index} in time`)),
        Math.max(0, timeoutMs),
      );
    });
    try {
      await Promise.race([this.server.whenApplied(index), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
