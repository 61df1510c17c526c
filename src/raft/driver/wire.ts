import type { RaftConfiguration, RaftPeer } from '../../http/context.ts';
import type { InstallSnapshot, Message } from '../core/messages.ts';
import type { Entry, Membership, SnapshotMeta } from '../core/types.ts';
import type { Member } from '../storage/types.ts';

// The RPC methods servers call on each other for Raft, and checks of what arrives on them: a peer's bytes
// are outside input like any other, so nothing reaches the core or the disk without being checked here.

export const RaftMethod = {
  /** One-way: a batch of core messages. */
  message: 'Raft.Message',
  /** Stream: an install-snapshot message, then the snapshot's data as the payload. */
  installSnapshot: 'Raft.InstallSnapshot',
  /** Request, to the leader: propose a payload and answer with its outcome once applied there. */
  apply: 'Raft.Apply',
  /** Request, to the leader: a linearizable read index (under the lease for `default`). */
  readIndex: 'Raft.ReadIndex',
  /** Request, to the leader: the configuration with the leader's view of each server. */
  configuration: 'Raft.Configuration',
  /** Request, to the leader: remove a server, named by id or address. */
  removePeer: 'Raft.RemovePeer',
  /** Request, to the leader: hand leadership to a server (or the most up-to-date voter). */
  transferLeadership: 'Raft.TransferLeadership',
} as const;

/** `from` is the sender's RPC address, so the receiver can answer a server it has not heard of. */
export interface MessageBatch {
  from: string;
  messages: Message[];
}

/** What the snapshot data is, as the sender's snapshot store describes it (addresses included). */
export interface SnapshotHeader {
  from: string;
  message: InstallSnapshot;
  snapshot: { index: number; term: number; membership: Member[]; size: number; sha256: string };
}

export type ApplyReply =
  | { status: 'ok'; result: Uint8Array }
  | { status: 'error'; error: string }
  | { status: 'not-leader' };

/** How the leader's handlers answer, unless they fail: with a value, or saying they do not lead. */
export type LeaderReply<T> = { status: 'ok'; value: T } | { status: 'not-leader' };

export type PeerTarget = { id: string } | { address: string };

export type ReadMode = 'default' | 'consistent';

export class WireError extends Error {
  override name = 'WireError';
}

type Check = (value: unknown) => boolean;

const MAX_ID = 256;
const count: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const bool: Check = (v) => typeof v === 'boolean';
const text: Check = (v) => typeof v === 'string' && v.length <= 1024;
const nodeId: Check = (v) => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID;
const record = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const listOf =
  (item: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(item);

const entry: Check = (v) =>
  record(v) &&
  count(v.index) &&
  count(v.term) &&
  typeof v.type === 'string' &&
  v.type.length <= 64 &&
  v.data instanceof Uint8Array;
const membership: Check = (v) => record(v) && listOf(nodeId)(v.voters) && listOf(nodeId)(v.learners);
const snapshotMeta: Check = (v) => record(v) && count(v.index) && count(v.term) && membership(v.membership);

/** The fields of each message type besides from/to/term/type. */
const FIELDS: Record<Message['type'], Record<string, Check>> = {
  vote: { lastLogIndex: count, lastLogTerm: count, transfer: bool },
  'pre-vote': { lastLogIndex: count, lastLogTerm: count, transfer: bool },
  'vote-response': { granted: bool },
  'pre-vote-response': { granted: bool },
  append: { prevIndex: count, prevTerm: count, entries: listOf(entry), commit: count, round: count },
  'append-response': { success: bool, index: count, hintIndex: count, hintTerm: count, round: count },
  heartbeat: { commit: count, round: count },
  'heartbeat-response': { round: count },
  'install-snapshot': { meta: snapshotMeta, handle: text, round: count },
  'timeout-now': {},
};

/** A core message, copied field by field (anything extra is dropped). */
export function checkMessage(value: unknown): Message {
  if (!record(value) || typeof value.type !== 'string' || !Object.hasOwn(FIELDS, value.type)) {
    throw new WireError('raft message has no known type');
  }
  const type = value.type as Message['type'];
  const message: Record<string, unknown> = { type };
  const fields: Record<string, Check> = { from: nodeId, to: nodeId, term: count, ...FIELDS[type] };
  for (const [name, check] of Object.entries(fields)) {
    if (!check(value[name])) throw new WireError(`raft ${type} message has a bad ${name}`);
    message[name] = value[name];
  }
  if (type === 'append') message.entries = (value.entries as Entry[]).map(copyEntry);
  if (type === 'install-snapshot') message.meta = copyMeta(value.meta as SnapshotMeta);
  return message as unknown as Message;
}

export function checkBatch(value: unknown): MessageBatch {
  if (!record(value) || !text(value.from) || !Array.isArray(value.messages)) {
    throw new WireError('raft message batch is malformed');
  }
  const messages = value.messages.map(checkMessage);
  if (messages.some((m) => m.type === 'install-snapshot')) {
    throw new WireError('install-snapshot travels on its own stream');
  }
  return { from: value.from as string, messages };
}

const member: Check = (v) => record(v) && nodeId(v.id) && text(v.address) && bool(v.voter);

export function checkSnapshotHeader(value: unknown): SnapshotHeader {
  if (!record(value) || !text(value.from) || !record(value.snapshot)) {
    throw new WireError('snapshot header is malformed');
  }
  const message = checkMessage(value.message);
  const { snapshot } = value;
  const valid =
    count(snapshot.index) &&
    count(snapshot.term) &&
    listOf(member)(snapshot.membership) &&
    count(snapshot.size) &&
    typeof snapshot.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(snapshot.sha256);
  if (message.type !== 'install-snapshot' || !valid) throw new WireError('snapshot header is malformed');
  if (snapshot.index !== message.meta.index || snapshot.term !== message.meta.term) {
    throw new WireError('snapshot header describes another snapshot than its message');
  }
  const members = (snapshot.membership as Member[]).map(({ id, address, voter }) => ({ id, address, voter }));
  return {
    from: value.from as string,
    message,
    snapshot: {
      index: snapshot.index as number,
      term: snapshot.term as number,
      membership: members,
      size: snapshot.size as number,
      sha256: snapshot.sha256 as string,
    },
  };
}

export function checkApplyRequest(value: unknown): Uint8Array {
  if (!record(value) || !(value.payload instanceof Uint8Array))
    throw new WireError('apply request is malformed');
  return value.payload;
}

export function checkApplyReply(value: unknown): ApplyReply {
  if (record(value)) {
    if (value.status === 'ok' && value.result instanceof Uint8Array)
      return { status: 'ok', result: value.result };
    if (value.status === 'error' && typeof value.error === 'string')
      return { status: 'error', error: value.error };
    if (value.status === 'not-leader') return { status: 'not-leader' };
  }
  throw new WireError('apply reply is malformed');
}

export function checkReadIndexRequest(value: unknown): ReadMode {
  if (record(value) && (value.mode === 'default' || value.mode === 'consistent')) return value.mode;
  throw new WireError('read-index request is malformed');
}

export function checkPeerTarget(value: unknown): PeerTarget {
  if (record(value) && nodeId(value.id)) return { id: value.id as string };
  if (record(value) && text(value.address)) return { address: value.address as string };
  throw new WireError('a peer must be named by id or address');
}

export function checkTransferRequest(value: unknown): string | undefined {
  if (record(value) && (value.id === null || nodeId(value.id)))
    return (value.id as string | null) ?? undefined;
  throw new WireError('transfer request is malformed');
}

/** A leader's reply, with its value checked by `check`. */
export function checkLeaderReply<T>(value: unknown, check: (value: unknown) => T): LeaderReply<T> {
  if (record(value) && value.status === 'not-leader') return { status: 'not-leader' };
  if (record(value) && value.status === 'ok') return { status: 'ok', value: check(value.value) };
  throw new WireError('reply from the leader is malformed');
}

export function checkIndex(value: unknown): number {
  if (count(value)) return value as number;
  throw new WireError('index is not a count');
}

const raftPeer: Check = (v) =>
  record(v) &&
  nodeId(v.id) &&
  text(v.address) &&
  bool(v.voter) &&
  bool(v.leader) &&
  count(v.lastIndex) &&
  count(v.lastTerm) &&
  count(v.lastContactMs);

export function checkConfiguration(value: unknown): RaftConfiguration {
  if (!record(value) || !count(value.index) || !listOf(raftPeer)(value.servers)) {
    throw new WireError('raft configuration is malformed');
  }
  const servers = (value.servers as RaftPeer[]).map(
    ({ id, address, voter, leader, lastIndex, lastTerm, lastContactMs }) => ({
      id,
      address,
      voter,
      leader,
      lastIndex,
      lastTerm,
      lastContactMs,
    }),
  );
  return { index: value.index as number, servers };
}

function copyEntry(e: Entry): Entry {
  return { index: e.index, term: e.term, type: e.type, data: e.data };
}

function copyMeta(meta: SnapshotMeta): SnapshotMeta {
  const { voters, learners }: Membership = meta.membership;
  return { index: meta.index, term: meta.term, membership: { voters: [...voters], learners: [...learners] } };
}
