import { type Entry, EntryType, type Membership, type NodeId } from '../core/types.ts';
import type { Member } from '../storage/types.ts';
import { decodePayload, isAddressRecord } from './payload.ts';

/**
 * Where each server is reached. The core's membership names servers by ID only, so addresses travel beside
 * it: in address records in the log (appended before the membership change that needs them), in snapshot
 * metadata, and in the sender field of every Raft message (which is how a server new to the cluster answers
 * a leader before it has the log). Addresses from the log or a snapshot win over those seen on messages.
 */
export class AddressBook {
  private readonly recorded = new Map<NodeId, string>();
  private readonly seen = new Map<NodeId, string>();

  constructor(
    private readonly selfId: NodeId,
    private readonly selfAddress: string,
  ) {}

  get(id: NodeId): string | undefined {
    if (id === this.selfId) return this.selfAddress;
    return this.recorded.get(id) ?? this.seen.get(id);
  }

  /** A message from `id` came from `address`. */
  observe(id: NodeId, address: string): void {
    if (id !== this.selfId) this.seen.set(id, address);
  }

  /** Takes the addresses in snapshot metadata, replacing what the log had recorded. */
  reset(members: readonly Member[]): void {
    this.recorded.clear();
    for (const { id, address } of members) this.recorded.set(id, address);
  }

  /** Records the address records among entries just written to the log. */
  scan(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.type !== EntryType.command || !isAddressRecord(entry.data)) continue;
      const payload = decodePayload(entry.data);
      if (payload.kind !== 'addresses') continue;
      for (const { id, address } of payload.servers) this.recorded.set(id, address);
    }
  }

  /** The membership as members with addresses (empty when unknown), voters first. */
  members(membership: Membership): Member[] {
    const member = (id: NodeId, voter: boolean): Member => ({ id, address: this.get(id) ?? '', voter });
    return [
      ...membership.voters.map((id) => member(id, true)),
      ...membership.learners.map((id) => member(id, false)),
    ];
  }
}

/** The core's membership for a snapshot's member list. */
export function membershipOf(members: readonly Member[]): Membership {
  return {
    voters: members.filter((m) => m.voter).map((m) => m.id),
    learners: members.filter((m) => !m.voter).map((m) => m.id),
  };
}
