import type { NodeId } from '../../src/raft/core/types.ts';
import type { CasResult } from './kv.ts';

/** What a client asks a server. */
export type ClientRequest =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'cas'; key: string; expected: string | null; value: string }
  | { kind: 'get'; key: string; consistent: boolean };

/** What a server answers; `refused` means the operation certainly did not and will not take effect. */
export type ClientReply =
  | { kind: 'value'; value: string | null }
  | { kind: 'written'; result: CasResult }
  | { kind: 'refused'; leader: NodeId | null };

/** An operation on one register as the linearizability checker sees it; `null` results are unknown. */
export type KvOperation =
  | { kind: 'put'; value: string }
  | { kind: 'get'; result: string | null }
  | { kind: 'cas'; expected: string | null; value: string; result: CasResult | null };

/** One operation of a client's history. `complete` is null when the outcome is unknown (the client timed out). */
export interface HistoryEntry {
  client: number;
  key: string;
  op: KvOperation;
  invoke: number;
  complete: number | null;
}
