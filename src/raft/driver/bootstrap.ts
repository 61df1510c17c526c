import { parseAddress } from '../../rpc/transport.ts';
import { encodeMembership } from '../core/membership.ts';
import { type Entry, EntryType } from '../core/types.ts';
import type { Member } from '../storage/types.ts';
import { membershipOf } from './address-book.ts';
import { encodePayload } from './payload.ts';

/**
 * The log every initial server writes when a cluster is bootstrapped (Consul's -bootstrap and
 * -bootstrap-expect): the servers' addresses, then the membership naming them, both in term 1. Every server
 * given the same members writes the same entries, so they agree on them as committed from the start.
 */
export function bootstrapEntries(members: readonly Member[]): Entry[] {
  checkMembers(members);
  const servers = members.map(({ id, address }) => ({ id, address }));
  return [
    { index: 1, term: 1, type: EntryType.command, data: encodePayload({ kind: 'addresses', servers }) },
    { index: 2, term: 1, type: EntryType.membership, data: encodeMembership(membershipOf(members)) },
  ];
}

function checkMembers(members: readonly Member[]): void {
  if (!members.some((member) => member.voter)) throw new Error('raft bootstrap needs at least one voter');
  const ids = new Set<string>();
  for (const { id, address } of members) {
    if (typeof id !== 'string' || id === '') throw new Error('raft bootstrap: every member needs an id');
    if (ids.has(id)) throw new Error(`raft bootstrap: ${id} is listed twice`);
    ids.add(id);
    parseAddress(address);
  }
}
