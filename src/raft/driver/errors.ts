// Errors callers branch on. The messages are Consul's (and hashicorp/raft's), since clients match on them.

/** No leader could be found within the hold timeout (Consul's structs.ErrNoLeader). */
export class NoLeaderError extends Error {
  override name = 'NoLeaderError';
  constructor() {
    super('No cluster leader');
  }
}

/** The operation needs the leader and this server is not it (hashicorp/raft's ErrNotLeader). */
export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  constructor(message = 'node is not the leader') {
    super(message);
  }
}

/** The server was stopped, or failed, before the operation finished. */
export class RaftStoppedError extends Error {
  override name = 'RaftStoppedError';
  constructor(message = 'raft server is shut down') {
    super(message);
  }
}
