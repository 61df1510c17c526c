import type { CheckRow, NodeRow, PreparedQueryRow, ServiceRow, SessionRow, Uint64 } from './types.ts';

// Every write to the state is one of these commands, applied in log order. They are plain data (msgpack-able)
// and carry everything apply needs, including the leader's clock, so every replica computes the same state.

export type NodeInput = Omit<NodeRow, 'CreateIndex' | 'ModifyIndex'>;
export type ServiceInput = Omit<ServiceRow, 'CreateIndex' | 'ModifyIndex' | 'Node'>;
export type CheckInput = Omit<CheckRow, 'CreateIndex' | 'ModifyIndex' | 'ServiceName' | 'ServiceTags'>;
export type SessionInput = Omit<SessionRow, 'CreateIndex' | 'ModifyIndex'>;

export type KVVerb = 'set' | 'cas' | 'lock' | 'unlock' | 'delete' | 'delete-cas' | 'delete-tree';
export type KVReadVerb = 'get' | 'get-tree' | 'check-index' | 'check-session' | 'check-not-exists';

export interface KVOp {
  Verb: KVVerb | KVReadVerb;
  Key: string;
  Value: Uint8Array | null;
  Flags: Uint64;
  Index: number;
  Session: string;
}

export type CatalogVerb = 'set' | 'cas' | 'get' | 'delete' | 'delete-cas';

export type TxnOp =
  | { KV: KVOp }
  | { Node: { Verb: CatalogVerb; Node: NodeInput & { ModifyIndex?: number } } }
  | { Service: { Verb: CatalogVerb; Node: string; Service: ServiceInput & { ModifyIndex?: number } } }
  | { Check: { Verb: CatalogVerb; Check: CheckInput & { ModifyIndex?: number } } };

export interface RegisterCommand {
  type: 'register';
  now: number;
  node: NodeInput;
  service: ServiceInput | null;
  checks: CheckInput[];
  skipNodeUpdate: boolean;
}

export interface DeregisterCommand {
  type: 'deregister';
  now: number;
  node: string;
  serviceId: string | null;
  checkId: string | null;
}

export interface KVCommand {
  type: 'kv';
  now: number;
  op: KVOp;
}

export interface SessionCreateCommand {
  type: 'session-create';
  now: number;
  session: SessionInput;
}

export interface SessionDestroyCommand {
  type: 'session-destroy';
  now: number;
  id: string;
}

export interface TxnCommand {
  type: 'txn';
  now: number;
  ops: TxnOp[];
}

/** Forgets KV tombstones at or below `reapIndex` once no blocking query can need them. */
export interface TombstoneReapCommand {
  type: 'tombstone-reap';
  now: number;
  reapIndex: number;
}

export type PreparedQueryInput = Omit<PreparedQueryRow, 'CreateIndex' | 'ModifyIndex'>;

/** Creates or replaces a prepared query (by ID). */
export interface QuerySetCommand {
  type: 'query-set';
  now: number;
  query: PreparedQueryInput;
}

export interface QueryDeleteCommand {
  type: 'query-delete';
  now: number;
  id: string;
}

export type Command =
  | RegisterCommand
  | DeregisterCommand
  | KVCommand
  | SessionCreateCommand
  | SessionDestroyCommand
  | TxnCommand
  | TombstoneReapCommand
  | QuerySetCommand
  | QueryDeleteCommand;
