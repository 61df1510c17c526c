// The membership core's public surface, for the gossip driver, serf's layer and the simulator.
export { type Random, seededRandom } from '../../raft/core/prng.ts';
export { Awareness } from './awareness.ts';
export {
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  type GossipConfig,
  resolveConfig,
} from './config.ts';
export {
  COMPOUND_HEADER_OVERHEAD,
  COMPOUND_OVERHEAD,
  GossipCore,
  type GossipCoreOptions,
  USER_MSG_OVERHEAD,
} from './core.ts';
export { type Broadcast, TransmitLimitedQueue } from './queue.ts';
export { estimateSize } from './size.ts';
export { Suspicion } from './suspicion.ts';
export { pushPullScale, remainingSuspicionTime, retransmitLimit, suspicionTimeout } from './timing.ts';
export type * from './types.ts';
