import type { Ready } from '../../src/raft/core/node.ts';
import type { Entry, NodeId } from '../../src/raft/core/types.ts';
import type { SimServer } from './server.ts';

/** Raised by the first broken safety property; the simulation stops there. */
export class InvariantViolation extends Error {}

/** Identifies an entry's content and term, to compare entries across servers. */
const entryDigest = (entry: Entry): string =>
  `${entry.term}:${entry.type}:${Buffer.from(entry.data).toString('base64')}`;

/**
 * Raft's safety properties, checked as the simulation runs: election safety (one leader per term), log
 * matching, leader completeness, state-machine safety (entries applied, and snapshots), and that no
 * server's durable commit index goes back.
 */
export class Invariants {
  private readonly leaders = new Map<number, SimServer>();
  private highestLeaderTerm = 0;
  /** For each (index, term) ever written anywhere: the entry's digest and the term of the entry before it. */
  private readonly written = new Map<string, string>();
  /** Digest of the entry committed at each index, as first seen committed by any server. */
  private readonly committed = new Map<number, string>();
  /**
   * The highest commit index seen by a server in each term. A server learns commits only from the leader of
   * its current term (or from its own leadership), so this tells in which term entries were committed.
   */
  private readonly commitFrontier = new Map<number, number>();
  private readonly seenCommit = new Map<NodeId, number>();
  private readonly snapshotStates = new Map<number, string>();

  /** Called after every event that touched `server`. */
  check(server: SimServer): void {
    const raft = server.raft;
    if (!raft) return;
    const { role, term, commit } = raft;
    if (role === 'leader') {
      const known = this.leaders.get(term);
      if (known === undefined) {
        this.leaders.set(term, server);
        this.highestLeaderTerm = Math.max(this.highestLeaderTerm, term);
        this.checkHolds(server, this.committedBefore(term), 'as new leader');
      } else if (known !== server) {
        this.fail(`two leaders in term ${term}: ${known.id} and ${server.id}`);
      }
    }
    const seen = this.seenCommit.get(server.id) ?? 0;
    if (commit > seen) {
      this.recordCommitted(server, seen, commit);
      this.seenCommit.set(server.id, commit);
      this.commitFrontier.set(term, Math.max(this.commitFrontier.get(term) ?? 0, commit));
      if (term < this.highestLeaderTerm) this.checkLaterLeaders(term, commit);
    }
  }

  /** A server (re)started: its commit index is what its disk says, which may be below what it had in memory. */
  started(server: SimServer): void {
    this.seenCommit.set(server.id, server.raft!.commit);
  }

  /** Log matching: an (index, term) pair always names the same entry, preceded by the same term. */
  readied(server: SimServer, ready: Ready): void {
    const log = server.raft!.log;
    for (const entry of ready.entries) {
      const identity = `${log.term(entry.index - 1)}|${entryDigest(entry)}`;
      const key = `${entry.index}:${entry.term}`;
      const known = this.written.get(key);
      if (known === undefined) this.written.set(key, identity);
      else if (known !== identity)
        this.fail(`${server.id} wrote entry ${key} as ${identity}, elsewhere ${known}`);
    }
  }

  /** State-machine safety: every server applies the same entry at each index. */
  applied(server: SimServer, entry: Entry): void {
    this.agree(server, entry.index, entryDigest(entry), 'applied');
  }

  /** A snapshot at `index` holds the same state wherever it was taken or installed. */
  snapshot(server: SimServer, index: number, stateDigest: string): void {
    const known = this.snapshotStates.get(index);
    if (known === undefined) this.snapshotStates.set(index, stateDigest);
    else if (known !== stateDigest) this.fail(`${server.id} holds a different state at snapshot ${index}`);
  }

  durableCommit(id: NodeId, before: number, after: number): void {
    if (after < before) this.fail(`${id}: durable commit index went back from ${before} to ${after}`);
  }

  /**
   * Leader completeness: what was committed in a term is, unchanged, in the log of every leader of a later
   * term (a leader of an earlier term may still be elected late, on slow votes, and hold less: it cannot
   * commit anything, since a majority has moved on).
   */
  private committedBefore(term: number): number {
    let highest = 0;
    for (const [seenIn, index] of this.commitFrontier) if (seenIn < term) highest = Math.max(highest, index);
    return highest;
  }

  /** Entries just committed in `term` must be in the logs of current leaders of later terms too. */
  private checkLaterLeaders(term: number, commit: number): void {
    for (const [leaderTerm, leader] of this.leaders) {
      if (leaderTerm > term && leader.raft?.role === 'leader' && leader.raft.term === leaderTerm) {
        this.checkHolds(leader, commit, `as leader of term ${leaderTerm}`);
      }
    }
  }

  private checkHolds(server: SimServer, upTo: number, what: string): void {
    const log = server.raft!.log;
    if (log.lastIndex() < upTo)
      this.fail(`${server.id} ${what} has a log ending at ${log.lastIndex()}, but ${upTo} is committed`);
    const first = log.firstIndex();
    if (first > upTo) return;
    for (const entry of log.entries(first, upTo + 1, Number.POSITIVE_INFINITY)) {
      this.agree(server, entry.index, entryDigest(entry), `holds ${what}`);
    }
  }

  private recordCommitted(server: SimServer, from: number, to: number): void {
    const log = server.raft!.log;
    const lo = Math.max(from + 1, log.firstIndex());
    if (lo > to) return;
    for (const entry of log.entries(lo, to + 1, Number.POSITIVE_INFINITY)) {
      this.agree(server, entry.index, entryDigest(entry), 'committed');
    }
  }

  private agree(server: SimServer, index: number, digest: string, what: string): void {
    const known = this.committed.get(index);
    if (known === undefined) this.committed.set(index, digest);
    else if (known !== digest)
      this.fail(`${server.id} ${what} ${digest} at ${index}, but ${known} is committed there`);
  }

  private fail(message: string): never {
    throw new InvariantViolation(message);
  }
}
