import { decodeValue, encodeValue } from './codec.ts';
import type { Command } from './commands.ts';
import { StateError } from './errors.ts';
import type { CommandResult } from './fsm.ts';
import type { StateStore } from './store.ts';

/** How writes reach the state: propose a command, get its result once it is committed and applied. */
export interface Applier {
  apply<C extends Command>(cmd: C): Promise<CommandResult<C>>;
  /** Replaces the whole state with an encoded snapshot (state.bin), on every server. */
  restore(state: Uint8Array): Promise<void>;
}

/**
 * The single-server log of the dev agent: every command is committed the moment it is appended. Commands
 * pass through the same msgpack encoding a replicated log uses, so the FSM sees exactly what a follower would.
 */
export class SingleNodeLog implements Applier {
  private nextIndex: number;

  constructor(private readonly store: StateStore) {
    this.nextIndex = store.lastIndex + 1;
  }

  async apply<C extends Command>(cmd: C): Promise<CommandResult<C>> {
    const entry = decodeValue(encodeValue(cmd)) as C;
    this.nextIndex = Math.max(this.nextIndex, this.store.lastIndex + 1);
    const outcome = this.store.apply(this.nextIndex++, entry);
    if (!outcome.ok) throw new StateError(outcome.error);
    return outcome.value;
  }

  async restore(state: Uint8Array): Promise<void> {
    this.store.restore(state);
  }
}
