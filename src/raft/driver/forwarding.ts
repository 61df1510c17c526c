import { performance } from 'node:perf_hooks';
import type { RpcClient } from '../../rpc/client.ts';
import { neverSent } from '../../rpc/errors.ts';
import { NoLeaderError, NotLeaderError, RaftStoppedError } from './errors.ts';
import type { RaftServer } from './server.ts';
import { checkLeaderReply, type LeaderReply } from './wire.ts';

export interface ForwardingOptions {
  /** How long to wait for a leader before failing with "No cluster leader" (Consul's rpc_hold_timeout: 7 s). */
  holdTimeoutMs?: number;
  /** How long a call forwarded to the leader may take. */
  forwardTimeoutMs?: number;
}

export const DEFAULT_HOLD_TIMEOUT_MS = 7000;
export const DEFAULT_FORWARD_TIMEOUT_MS = 30_000;

/** The options with Consul's defaults filled in. */
export function resolveForwarding(options: ForwardingOptions): Required<ForwardingOptions> {
  return {
    holdTimeoutMs: options.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS,
    forwardTimeoutMs: options.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS,
  };
}

/** What a leader's handler answers when it turns out not to lead (any more). */
export const NOT_LEADER = Symbol('not-leader');

export interface LeaderCall<T> {
  /** Runs on this server, which leads; throws NotLeaderError if it turns out not to. */
  local(): Promise<T>;
  /** Asks the leader over RPC. */
  remote(client: RpcClient): Promise<T | typeof NOT_LEADER>;
}

/**
 * Runs `call` on the leader: here if this server leads, else over RPC. Without a reachable leader it waits up
 * to `holdMs` for one (Consul's RPC hold timeout), then fails with "No cluster leader". Only attempts that
 * certainly did nothing are retried: a leader that says it is not one, or a connection that never opened.
 */
export async function onLeader<T>(server: RaftServer, holdMs: number, call: LeaderCall<T>): Promise<T> {
  const deadline = performance.now() + holdMs;
  for (;;) {
    if (!server.running) throw new RaftStoppedError();
    const leader = server.leader();
    if (leader?.id === server.id) {
      try {
        return await call.local();
      } catch (err) {
        if (!(err instanceof NotLeaderError)) throw err;
      }
    } else if (leader?.address) {
      try {
        const result = await call.remote(server.pool.get(leader.address));
        if (result !== NOT_LEADER) return result;
      } catch (err) {
        if (!neverSent(err)) throw err;
      }
    }
    const left = deadline - performance.now();
    if (left <= 0) throw new NoLeaderError();
    // A new leader wakes us at once; a known but unreachable one is tried again after a heartbeat.
    await server.nextChange(Math.min(left, server.timing.heartbeatMs));
  }
}

/** Calls a leader-only handler (one answering a LeaderReply) and checks its value with `check`. */
export async function askLeader<T>(
  client: RpcClient,
  method: string,
  body: unknown,
  check: (value: unknown) => T,
  timeoutMs: number,
): Promise<T | typeof NOT_LEADER> {
  const reply = checkLeaderReply(await client.call(method, body, { timeoutMs }), check);
  return reply.status === 'ok' ? reply.value : NOT_LEADER;
}

/** Runs a leader-only handler: NotLeaderError becomes a reply, so the caller looks for the new leader. */
export async function leaderOnly<T>(run: () => Promise<T>): Promise<LeaderReply<T>> {
  try {
    return { status: 'ok', value: await run() };
  } catch (err) {
    if (err instanceof NotLeaderError) return { status: 'not-leader' };
    throw err;
  }
}
