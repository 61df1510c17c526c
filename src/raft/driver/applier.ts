import type { Applier } from '../../state/applier.ts';
import { decodeValue, encodeValue } from '../../state/codec.ts';
import type { Command } from '../../state/commands.ts';
import { StateError } from '../../state/errors.ts';
import type { CommandResult } from '../../state/fsm.ts';
import type { ApplyOutcome } from '../../state/store.ts';
import { type ForwardingOptions, NOT_LEADER, onLeader, resolveForwarding } from './forwarding.ts';
import { checkRestorable } from './fsm.ts';
import { encodePayload } from './payload.ts';
import type { RaftServer } from './server.ts';
import { checkApplyReply, RaftMethod } from './wire.ts';

/**
 * Writes through Raft: the leader proposes the command and answers once it has applied it; a follower
 * forwards the command to the leader (`Raft.Apply`). Either way the caller gets the FSM's result, or a
 * StateError with the FSM's refusal, as from the dev agent's SingleNodeLog.
 */
export class RaftApplier implements Applier {
  private readonly forwarding: Required<ForwardingOptions>;

  constructor(
    private readonly server: RaftServer,
    options: ForwardingOptions = {},
  ) {
    this.forwarding = resolveForwarding(options);
  }

  async apply<C extends Command>(cmd: C): Promise<CommandResult<C>> {
    const outcome = await this.submit(encodePayload({ kind: 'command', bytes: encodeValue(cmd) }));
    if (!outcome.ok) throw new StateError(outcome.error);
    return outcome.value as CommandResult<C>;
  }

  /** Every server replaces its state at the same log index; a state this version cannot read is refused first. */
  async restore(state: Uint8Array): Promise<void> {
    checkRestorable(state);
    const outcome = await this.submit(encodePayload({ kind: 'restore', bytes: state }));
    if (!outcome.ok) throw new StateError(outcome.error);
  }

  private submit(payload: Uint8Array): Promise<ApplyOutcome<unknown>> {
    return onLeader(this.server, this.forwarding.holdTimeoutMs, {
      local: () => this.server.propose(payload),
      remote: async (client) => {
        const body = await client.call(
          RaftMethod.apply,
          { payload },
          { timeoutMs: this.forwarding.forwardTimeoutMs },
        );
        const reply = checkApplyReply(body);
        if (reply.status === 'not-leader') return NOT_LEADER;
        if (reply.status === 'error') return { ok: false, error: reply.error };
        return { ok: true, value: decodeValue(reply.result) };
      },
    });
  }
}
