// The consensus core's public surface, for the driver and the storage layer.
export { defaultOptions, type RaftOptions, resolveOptions } from './config.ts';
export type { PeerStatus, Proposed, Refusal } from './leader.ts';
export type { IncomingSnapshot, LogView } from './log.ts';
export {
  applyChange,
  bootstrapEntry,
  decodeMembership,
  encodeMembership,
  isMember,
  isVoter,
  type MembershipChange,
  membersOf,
} from './membership.ts';
export { MemoryStorage } from './memory-storage.ts';
export type * from './messages.ts';
export { fromLeader } from './messages.ts';
export { type LogReader, RaftNode, type Ready, type SoftState, type Status } from './node.ts';
export { type Random, seededRandom } from './prng.ts';
export type { RaftInit } from './raft.ts';
export type { ReadState } from './read-only.ts';
export * from './types.ts';
