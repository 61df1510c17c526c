import { decodeValue } from '../../state/codec.ts';
import type { Command } from '../../state/commands.ts';
import { type ApplyOutcome, StateStore } from '../../state/store.ts';
import { type Entry, EntryType } from '../core/types.ts';
import { decodePayload, type Payload } from './payload.ts';
import { WireError } from './wire.ts';

// Where log entries meet the state machine: every server runs the same function on the same entries, so a
// payload that fails here fails identically everywhere and leaves every state untouched.

const NOTHING: ApplyOutcome<unknown> = { ok: true, value: null };

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Applies one committed entry. Never throws: a refusal is an outcome like any other. */
export function applyEntry(store: StateStore, entry: Entry): ApplyOutcome<unknown> {
  if (entry.type !== EntryType.command) return NOTHING;
  let payload: Payload;
  try {
    payload = decodePayload(entry.data);
  } catch (err) {
    return { ok: false, error: messageOf(err) };
  }
  switch (payload.kind) {
    case 'command': {
      let command: Command;
      try {
        command = decodeValue(payload.bytes) as Command;
      } catch (err) {
        return { ok: false, error: `undecodable command: ${messageOf(err)}` };
      }
      return store.apply(entry.index, command);
    }
    case 'restore':
      try {
        store.restore(payload.bytes);
        return NOTHING;
      } catch (err) {
        return { ok: false, error: messageOf(err) };
      }
    case 'addresses':
      return NOTHING;
  }
}

/** Throws SnapshotError unless `state` is a state snapshot this version can restore. */
export function checkRestorable(state: Uint8Array): void {
  new StateStore().restore(state);
}

/** What a follower may ask the leader to propose: a command or a restore, well formed. */
export function checkForwarded(data: Uint8Array): void {
  let payload: Payload;
  try {
    payload = decodePayload(data);
  } catch (err) {
    throw new WireError(messageOf(err));
  }
  if (payload.kind === 'restore') {
    checkRestorable(payload.bytes);
    return;
  }
  if (payload.kind !== 'command') throw new WireError('only commands and restores are forwarded');
  let command: unknown;
  try {
    command = decodeValue(payload.bytes);
  } catch (err) {
    throw new WireError(`undecodable command: ${messageOf(err)}`);
  }
  if (typeof command !== 'object' || command === null || typeof (command as Command).type !== 'string') {
    throw new WireError('a forwarded command must be an object with a type');
  }
}
