import type { Ready } from '../../src/raft/core/node.ts';
import type { Entry, NodeId } from '../../src/raft/core/types.ts';
import type { SimServer } from './server.ts';

/** Raised by the first broken safety property; the simulation stops there. */
export class InvariantViolation extends Error {}

/** Identifies an entry's content and term, to compare entries across servers. */
export const entryDigest = (entry: Entry): string =>
  `${entry.term}:${entry.type}:${Buffer.from(entry.data).toString('base64')}`;

/**
 * Raft's safety properties, checked as the simulation runs: election safety (one leader per term), log
 * matching, leader completeness, state-machine safety (entries applied, and snapshots), and that no
 * server's durable commit index goes back.
 */
export class Invariants {
  private readonly leaders = new Map<number, NodeId>();
  /** For each (index, term) ever written anywhere: the entry's digest and the term of the entry before it. */
  private readonly written = new Map<string, string>();
  /** Digest of the entry committed at each index, as first seen committed by any server. */
  private readonly committed = new Map<number, string>();
  private highestCommitted = 0;
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
        this.leaders.set(term, server.id);
        this.checkCompleteness(server);
      } else if (known !== server.id) {
        this.fail(`two leaders in term ${term}: ${known} and ${server.id}`);
      }
    }
    const seen = this.seenCommit.get(server.id) ?? 0;
    if (commit > seen) {
      this.recordCommitted(server, seen, commit);
      this.seenCommit.set(server.id, commit);
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

  /** Every entry committed so far is, unchanged, in the log of the leader that just took over. */
  private checkCompleteness(server: SimServer): void {
    const log = server.raft!.log;
    if (log.lastIndex() < this.highestCommitted) {
      this.fail(
        `${server.id} leads with log ending at ${log.lastIndex()}, but ${this.highestCommitted} is committed`,
      );
    }
    const first = log.firstIndex();
    if (first > this.highestCommitted) return;
    const entries = log.entries(first, this.highestCommitted + 1, Number.POSITIVE_INFINITY);
    for (const entry of entries) this.agree(server, entry.index, entryDigest(entry), 'holds as new leader');
  }

  private recordCommitted(server: SimServer, from: number, to: number): void {
    const log = server.raft!.log;
    const lo = Math.max(from + 1, log.firstIndex());
    if (lo > to) return;
    for (const entry of log.entries(lo, to + 1, Number.POSITIVE_INFINITY)) {
      this.agree(server, entry.index, entryDigest(entry), 'committed');
    }
    this.highestCommitted = Math.max(this.highestCommitted, to);
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
