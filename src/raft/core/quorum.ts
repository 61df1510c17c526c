import type { NodeId } from './types.ts';

export const majority = (voters: number): number => Math.floor(voters / 2) + 1;

/**
 * The highest value that a majority of `voters` has reached. Over match indexes it is the commit index; over
 * acknowledged rounds, the last round a quorum confirmed. With no voters nothing can be decided: -Infinity.
 */
export function quorumValue(voters: readonly NodeId[], reached: (id: NodeId) => number): number {
  if (voters.length === 0) return Number.NEGATIVE_INFINITY;
  const values = voters.map(reached).sort((a, b) => b - a);
  return values[majority(voters.length) - 1]!;
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

/** Counts the answers of `voters` (ignoring anyone else's): won or lost as soon as a majority agrees. */
export function tally(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return 'won';
  if (rejected > voters.length - needed) return 'lost';
  return 'pending';
}
