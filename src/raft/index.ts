// Raft for Tribune servers: the driver that runs the consensus core (core/) over the LMDB log and snapshot
// files (storage/) and the server RPC, and the adapters the HTTP layer and the agent use.

export type { SoftState } from './core/node.ts';
export { RaftApplier } from './driver/applier.ts';
export { RaftClusterView } from './driver/cluster-view.ts';
export { NoLeaderError, NotLeaderError, RaftStoppedError } from './driver/errors.ts';
export type { ForwardingOptions } from './driver/forwarding.ts';
export { DEFAULT_TIMING, type RaftServerOptions, type RaftTiming } from './driver/options.ts';
export { RaftReadGate } from './driver/read-gate.ts';
export { RaftServer } from './driver/server.ts';
export type { PeerInfo, RaftStatus } from './driver/status.ts';
export { RaftMethod } from './driver/wire.ts';
export type { Member } from './storage/types.ts';
