import { isDeepStrictEqual } from 'node:util';
import type { RaftIndexes } from './types.ts';

/**
 * True when `row` already holds everything in `input`. Consul skips such writes entirely, so re-registering an
 * unchanged service (which agents do on every anti-entropy sync) neither moves indexes nor wakes watchers.
 */
export function unchanged<R extends RaftIndexes>(
  row: R | undefined,
  input: Omit<R, keyof RaftIndexes>,
): boolean {
  if (!row) return false;
  const { CreateIndex: _c, ModifyIndex: _m, ...rest } = row;
  return isDeepStrictEqual(rest, input);
}
