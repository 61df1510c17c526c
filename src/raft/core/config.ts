/**
 * Tunables of the core. Time is counted in ticks: the driver calls `tick()` at a fixed interval (Tribune
 * uses 10 ms, so the defaults below give a 50 ms heartbeat and a 150–300 ms election timeout).
 */
export interface RaftOptions {
  /** Least ticks without hearing from a leader before a follower campaigns. */
  electionTicks: number;
  /** The election timeout is drawn afresh from [electionTicks, electionMaxTicks) to break split votes. */
  electionMaxTicks: number;
  heartbeatTicks: number;
  /**
   * How long after a quorum acknowledged a heartbeat round (counted from when the round started) the leader
   * may serve reads from its own state. Must stay below `electionTicks`, the time followers refuse to vote
   * for anyone else after hearing from the leader; the gap absorbs clock drift and tick jitter.
   */
  leaseTicks: number;
  /** Ask whether an election could be won before disrupting the cluster with a new term. */
  preVote: boolean;
  /** A leader steps down when it has not heard from a quorum within an election timeout; required for leases. */
  checkQuorum: boolean;
  /** Soft cap on the entries' bytes in one append message (one entry is always sent). */
  maxMessageBytes: number;
  /** Appends in flight to one follower before the leader waits for acknowledgements. */
  maxInflightMessages: number;
  /** Bytes of appends in flight to one follower before the leader waits for acknowledgements. */
  maxInflightBytes: number;
  /** Soft cap on the bytes of committed entries handed to the application in one Ready. */
  maxApplyBytes: number;
}

export const defaultOptions: Readonly<RaftOptions> = {
  electionTicks: 15,
  electionMaxTicks: 30,
  heartbeatTicks: 5,
  leaseTicks: 10,
  preVote: true,
  checkQuorum: true,
  maxMessageBytes: 1 << 20,
  maxInflightMessages: 256,
  maxInflightBytes: 32 << 20,
  maxApplyBytes: 64 << 20,
};

export function resolveOptions(overrides: Partial<RaftOptions> = {}): RaftOptions {
  const options = { ...defaultOptions, ...overrides };
  const problems: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (typeof value === 'number' && !(Number.isInteger(value) && value > 0)) {
      problems.push(`${name} must be a positive integer`);
    }
  }
  if (options.heartbeatTicks >= options.electionTicks)
    problems.push('heartbeatTicks must be below electionTicks');
  if (options.electionMaxTicks <= options.electionTicks) {
    problems.push('electionMaxTicks must be above electionTicks');
  }
  if (options.leaseTicks >= options.electionTicks) problems.push('leaseTicks must be below electionTicks');
  if (problems.length > 0) throw new Error(`invalid raft options: ${problems.join('; ')}`);
  return options;
}
