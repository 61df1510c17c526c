/**
 * Consul's index for user event lists (the agent's uuidToUint64, the Go client's IDToIndex): the two 64-bit
 * halves of the last event's UUID XORed together. Events have no Raft index, so blocking lists and event
 * watches compare this instead; it is not ordered, only different for a different last event.
 */
export function eventIndex(id: string): bigint {
  const hex = id.replaceAll('-', '');
  return BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16, 32)}`);
}
