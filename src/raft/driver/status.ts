import type { RaftConfiguration, RaftPeer } from '../../http/context.ts';
import type { PeerStatus } from '../core/leader.ts';
import type { Status } from '../core/node.ts';
import type { NodeId, Role } from '../core/types.ts';
import type { Member } from '../storage/types.ts';
import type { AddressBook } from './address-book.ts';

/** One peer as the leader sees it: what autopilot health and `operator raft list-peers` report. */
export interface PeerInfo {
  id: NodeId;
  address: string;
  voter: boolean;
  matchIndex: number;
  nextIndex: number;
  state: PeerStatus['state'];
  /** Milliseconds since the peer last answered the leader. */
  lastContactMs: number;
}

export interface RaftStatus {
  id: NodeId;
  address: string;
  role: Role;
  term: number;
  leader: { id: NodeId; address: string } | null;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  /** Index of the latest snapshot this server holds. */
  snapshotIndex: number;
  /** Milliseconds since this server last heard from the leader (0 on the leader). */
  lastContactMs: number;
  /** The configuration in force here, voters first. */
  members: Member[];
  /** The leader's view of each peer; empty on followers. */
  peers: PeerInfo[];
}

export interface StatusSources {
  core: Status;
  book: AddressBook;
  address: string;
  applied: number;
  snapshotIndex: number;
  lastContactMs: number;
  tickMs: number;
}

export function describeStatus(sources: StatusSources): RaftStatus {
  const { core, book, tickMs } = sources;
  return {
    id: core.id,
    address: sources.address,
    role: core.role,
    term: core.term,
    leader: core.leader === null ? null : { id: core.leader, address: book.get(core.leader) ?? '' },
    commitIndex: core.commit,
    appliedIndex: sources.applied,
    lastIndex: core.lastIndex,
    snapshotIndex: sources.snapshotIndex,
    lastContactMs: sources.lastContactMs,
    members: book.members(core.membership),
    peers: core.peers.map((peer) => ({
      id: peer.id,
      address: book.get(peer.id) ?? '',
      voter: peer.voter,
      matchIndex: peer.match,
      nextIndex: peer.next,
      state: peer.state,
      lastContactMs: peer.lastContactTicks * tickMs,
    })),
  };
}

export interface ConfigurationSources {
  core: Status;
  book: AddressBook;
  configIndex: number;
  /** Term of the entry at `index` in this server's log, if it still holds it. */
  termAt(index: number): number | undefined;
  lastContactMs: number;
  tickMs: number;
}

/**
 * The configuration with what this server knows of each member: on the leader, how far each has replicated
 * and when it last answered; elsewhere only its own log and its contact with the leader.
 */
export function describeConfiguration(sources: ConfigurationSources): RaftConfiguration {
  const { core, book, tickMs } = sources;
  const peers = new Map(core.peers.map((peer) => [peer.id, peer]));
  const servers = book.members(core.membership).map(({ id, address, voter }): RaftPeer => {
    const peer = peers.get(id);
    const self = id === core.id;
    const lastIndex = self ? core.lastIndex : (peer?.match ?? 0);
    let lastContactMs = 0;
    if (peer) lastContactMs = peer.lastContactTicks * tickMs;
    else if (!self && id === core.leader) lastContactMs = sources.lastContactMs;
    return {
      id,
      address,
      voter,
      leader: id === core.leader,
      lastIndex,
      lastTerm: self || peer ? (sources.termAt(lastIndex) ?? 0) : 0,
      lastContactMs,
    };
  });
  return { index: sources.configIndex, servers };
}
