import type { RpcServer } from '../../rpc/server.ts';
import { encodeValue } from '../../state/codec.ts';
import { NotLeaderError } from './errors.ts';
import { leaderOnly } from './forwarding.ts';
import { checkForwarded } from './fsm.ts';
import type { RaftServer } from './server.ts';
import {
  type ApplyReply,
  checkApplyRequest,
  checkBatch,
  checkPeerTarget,
  checkReadIndexRequest,
  checkSnapshotHeader,
  checkTransferRequest,
  type LeaderReply,
  RaftMethod,
} from './wire.ts';

/** Registers the Raft methods a server answers on the server RPC port. */
export function registerRaftHandlers(rpc: RpcServer, server: RaftServer): void {
  rpc.handle(RaftMethod.message, (body) => server.receive(checkBatch(body)));
  rpc.handleStream(RaftMethod.installSnapshot, (body, chunks) =>
    server.receiveSnapshot(checkSnapshotHeader(body), chunks),
  );
  rpc.handle(RaftMethod.apply, (body) => apply(server, checkApplyRequest(body)));
  rpc.handle(RaftMethod.readIndex, (body) => {
    const mode = checkReadIndexRequest(body);
    return whenLeading(server, () => server.readIndex(mode));
  });
  rpc.handle(RaftMethod.configuration, () => whenLeading(server, async () => server.configuration()));
  rpc.handle(RaftMethod.removePeer, (body) => {
    const target = checkPeerTarget(body);
    return whenLeading(server, () => server.removePeer(target));
  });
  rpc.handle(RaftMethod.transferLeadership, (body) => {
    const to = checkTransferRequest(body);
    return whenLeading(server, () => server.transferLeadership(to));
  });
}

/** A follower's write: proposed here, answered with the FSM's outcome (or its refusal) once applied. */
async function apply(server: RaftServer, data: Uint8Array): Promise<ApplyReply> {
  checkForwarded(data);
  // Also when stopped or stopping: nothing is proposed, so the caller may safely try the next leader.
  if (!server.isLeader) return { status: 'not-leader' };
  try {
    const outcome = await server.propose(data);
    return outcome.ok
      ? { status: 'ok', result: encodeValue(outcome.value) }
      : { status: 'error', error: outcome.error };
  } catch (err) {
    if (err instanceof NotLeaderError) return { status: 'not-leader' };
    throw err;
  }
}

/** A leader-only handler; a server not leading (any more, or stopped) says so and runs nothing. */
function whenLeading<T>(server: RaftServer, run: () => Promise<T>): Promise<LeaderReply<T>> {
  return leaderOnly(async () => {
    if (!server.isLeader) throw new NotLeaderError();
    return run();
  });
}
