import { GossipCodecError } from '../wire/errors.ts';
import {
  bool,
  bytes,
  type FieldWriter,
  StructReader,
  str,
  toText,
  uint8,
  uint16,
  writeStruct,
} from '../wire/fields.ts';
import { decodeValue, GoMsgpackWriter } from '../wire/go-msgpack.ts';
import type { Keyring } from '../wire/keyring.ts';
import { SerfMessageType } from '../wire/serf-messages.ts';
import type { IncomingQuery } from './query.ts';
import { MemberStatus, type SerfMember } from './types.ts';

// The queries serf answers itself, named `_serf_<name>`: ping (reachability; the ack is the answer),
// conflict (who do you think holds this name?) and the keyring operations serf's KeyManager sends to every
// member: install-key, use-key, remove-key and list-keys. Each key query carries a keyRequest and is answered
// with a nodeKeyResponse; messages are worded as serf and memberlist word them, because operators and
// Consul's CLI show them as they are.

export const INTERNAL_QUERY_PREFIX = '_serf_';

export const InternalQuery = {
  ping: 'ping',
  conflict: 'conflict',
  installKey: 'install-key',
  useKey: 'use-key',
  removeKey: 'remove-key',
  listKeys: 'list-keys',
} as const;

export const internalQueryName = (name: string): string => INTERNAL_QUERY_PREFIX + name;

/** memberlist's and serf's own words. */
export const KeyringMessages = {
  keySize: 'key size must be 16, 24 or 32 bytes',
  notInstalled: 'Requested key is not in the keyring',
  removePrimary: 'Removing the primary key is not allowed',
  noKeyringToModify: 'No keyring to modify (encryption not enabled)',
  keyringEmpty: 'Keyring is empty (encryption not enabled)',
} as const;

/**
 * serf's minEncodedKeyLength: the fewest bytes one key adds to a list-keys answer, so at most
 * QueryResponseSizeLimit / 25 keys are tried before truncating.
 */
const MIN_ENCODED_KEY_LENGTH = 25;

/** A node's answer to a key query (serf's nodeKeyResponse). */
export interface NodeKeyResponse {
  Result: boolean;
  Message: string;
  /** list-keys: every installed key, base64, the primary first. */
  Keys: string[];
  /** list-keys: the primary key, base64 (serf ≥ 0.9.6; empty from older members). */
  PrimaryKey: string;
}

/** `[keyRequest type][{Key: raw}]`: the payload of every key query (list-keys sends an empty key). */
export function encodeKeyRequest(key: Uint8Array): Uint8Array {
  const w = new GoMsgpackWriter();
  w.byte(SerfMessageType.keyRequest);
  writeStruct(w, 'keyRequest', { Key: bytes(key) });
  return w.bytes();
}

/** Reads a key query's payload past its type byte, which serf does not check either. */
export function decodeKeyRequest(payload: Uint8Array): Uint8Array {
  if (payload.length < 1) throw new GossipCodecError('truncated', 'key request is empty');
  return new StructReader('keyRequest', decodeValue(payload.subarray(1))).bytes('Key');
}

export function encodeNodeKeyResponse(response: NodeKeyResponse): Uint8Array {
  const w = new GoMsgpackWriter();
  w.byte(SerfMessageType.keyResponse);
  const keys: FieldWriter = (w) => {
    // A Go slice never filled is nil.
    if (response.Keys.length === 0) w.nil();
    else {
      w.arrayHeader(response.Keys.length);
      for (const key of response.Keys) w.string(key);
    }
  };
  writeStruct(w, 'nodeKeyResponse', {
    Result: bool(response.Result),
    Message: str(response.Message),
    Keys: keys,
    PrimaryKey: str(response.PrimaryKey),
  });
  return w.bytes();
}

/** A key query's answer; throws when it is not one (serf counts that node as failed). */
export function decodeNodeKeyResponse(payload: Uint8Array): NodeKeyResponse {
  if (payload.length < 1 || payload[0] !== SerfMessageType.keyResponse) {
    throw new GossipCodecError('malformed', 'not a key query response');
  }
  const r = new StructReader('nodeKeyResponse', decodeValue(payload.subarray(1)));
  return {
    Result: r.bool('Result'),
    Message: r.string('Message', 64 * 1024),
    Keys: r.array('Keys').map((key, i) => toText(key, `nodeKeyResponse.Keys[${i}]`)),
    PrimaryKey: r.string('PrimaryKey'),
  };
}

/** `[conflictResponse type][Member or nil]`: what this node knows of the member holding a name. */
export function encodeConflictResponse(member: SerfMember | undefined): Uint8Array {
  const w = new GoMsgpackWriter();
  w.byte(SerfMessageType.conflictResponse);
  if (!member) {
    w.nil();
    return w.bytes();
  }
  const [pmin = 0, pmax = 0, pcur = 0, dmin = 0, dmax = 0, dcur = 0] = member.vsn;
  writeStruct(w, 'Member', {
    Name: str(member.name),
    Addr: bytes(member.addr),
    Port: uint16(member.port),
    Tags: (w) => {
      const names = Object.keys(member.tags).sort();
      w.mapHeader(names.length);
      for (const name of names) {
        w.string(name);
        w.string(member.tags[name]!);
      }
    },
    Status: (w) => w.int(MemberStatus[member.status]),
    ProtocolMin: uint8(pmin),
    ProtocolMax: uint8(pmax),
    ProtocolCur: uint8(pcur),
    DelegateMin: uint8(dmin),
    DelegateMax: uint8(dmax),
    DelegateCur: uint8(dcur),
  });
  return w.bytes();
}

/** What the internal queries need of the node answering them. */
export interface InternalQueryHost {
  nodeName: string;
  member(name: string): SerfMember | undefined;
  /** The pool's keyring; undefined when gossip is not encrypted. */
  keyring: Keyring | undefined;
  /** serf's QueryResponseSizeLimit, which bounds how many keys a list-keys answer tries. */
  responseSizeLimit: number;
  /** Persists the keyring after a change (serf's keyring file); throws with the reason when it cannot. */
  persistKeyring?: () => void;
  /** A note for the log (serf logs these). */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Answers an internal query; an unknown one is only logged, as serf does. */
export function handleInternalQuery(query: IncomingQuery, host: InternalQueryHost): void {
  const name = query.name.slice(INTERNAL_QUERY_PREFIX.length);
  switch (name) {
    case InternalQuery.ping:
      break; // the ack, when asked for, is the answer
    case InternalQuery.conflict:
      handleConflict(query, host);
      break;
    case InternalQuery.installKey:
    case InternalQuery.useKey:
    case InternalQuery.removeKey:
      respond(query, host, modifyKeyring(name, query, host));
      break;
    case InternalQuery.listKeys:
      respondWithKeyList(query, host, listKeys(host));
      break;
    default:
      host.log?.('warn', `serf: Unhandled internal query '${name}'`);
  }
}

function handleConflict(query: IncomingQuery, host: InternalQueryHost): void {
  const node = new TextDecoder().decode(query.payload);
  // A node does not vouch for itself.
  if (node === host.nodeName) return;
  respond(query, host, encodeConflictResponse(host.member(node)));
}

function modifyKeyring(name: string, query: IncomingQuery, host: InternalQueryHost): Uint8Array {
  const response: NodeKeyResponse = { Result: false, Message: '', Keys: [], PrimaryKey: '' };
  let key: Uint8Array;
  try {
    key = decodeKeyRequest(query.payload);
  } catch (err) {
    host.log?.('error', `serf: Failed to decode key request: ${(err as Error).message}`);
    return encodeNodeKeyResponse(response);
  }
  const keyring = host.keyring;
  if (!keyring) {
    response.Message = KeyringMessages.noKeyringToModify;
    host.log?.('error', `serf: ${KeyringMessages.noKeyringToModify}`);
    return encodeNodeKeyResponse(response);
  }
  host.log?.('info', `serf: Received ${name} query`);
  const problem = applyKeyOperation(keyring, name, key);
  if (problem !== undefined) {
    response.Message = problem;
    host.log?.('error', `serf: Failed to ${describe(name)}: ${problem}`);
    return encodeNodeKeyResponse(response);
  }
  try {
    host.persistKeyring?.();
  } catch (err) {
    response.Message = (err as Error).message;
    host.log?.('error', `serf: Failed to write keyring file: ${response.Message}`);
    return encodeNodeKeyResponse(response);
  }
  response.Result = true;
  return encodeNodeKeyResponse(response);
}

const describe = (name: string) =>
  name === InternalQuery.installKey
    ? 'install key'
    : name === InternalQuery.useKey
      ? 'change primary key'
      : 'remove key';

const sameKey = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

/** memberlist's Keyring.AddKey, UseKey and RemoveKey, with their errors; undefined when it worked. */
export function applyKeyOperation(keyring: Keyring, name: string, key: Uint8Array): string | undefined {
  const installed = keyring.keys.some((k) => sameKey(k, key));
  switch (name) {
    case InternalQuery.installKey:
      if (key.length !== 16 && key.length !== 24 && key.length !== 32) return KeyringMessages.keySize;
      keyring.addKey(key);
      return undefined;
    case InternalQuery.useKey:
      if (!installed) return KeyringMessages.notInstalled;
      keyring.useKey(key);
      return undefined;
    case InternalQuery.removeKey:
      if (sameKey(keyring.primaryKey, key)) return KeyringMessages.removePrimary;
      // Removing a key that is not installed changes nothing and is no error.
      if (installed) keyring.removeKey(key);
      return undefined;
    default:
      return `unknown key operation ${name}`;
  }
}

function listKeys(host: InternalQueryHost): NodeKeyResponse {
  const keyring = host.keyring;
  if (!keyring) {
    host.log?.('error', `serf: ${KeyringMessages.keyringEmpty}`);
    return { Result: false, Message: KeyringMessages.keyringEmpty, Keys: [], PrimaryKey: '' };
  }
  host.log?.('info', 'serf: Received list-keys query');
  const b64 = (key: Uint8Array) => Buffer.from(key).toString('base64');
  return { Result: true, Message: '', Keys: keyring.keys.map(b64), PrimaryKey: b64(keyring.primaryKey) };
}

/**
 * serf's keyListResponseWithCorrectSize: the whole list if it fits the response limit, otherwise the first
 * keys that do, with a message saying how many were left out.
 */
export function fitKeyList(
  response: NodeKeyResponse,
  fits: (payload: Uint8Array) => boolean,
  responseSizeLimit: number,
): { payload: Uint8Array; truncated: boolean } | undefined {
  const actual = response.Keys.length;
  const most = Math.min(Math.floor(responseSizeLimit / MIN_ENCODED_KEY_LENGTH), actual);
  let candidate = response;
  for (let i = most; i >= 0; i--) {
    const payload = encodeNodeKeyResponse(candidate);
    if (fits(payload)) return { payload, truncated: actual > candidate.Keys.length };
    candidate = {
      ...response,
      Keys: response.Keys.slice(0, i),
      Message: `truncated key list response, showing first ${i} of ${actual} keys`,
    };
  }
  return undefined;
}

function respondWithKeyList(query: IncomingQuery, host: InternalQueryHost, response: NodeKeyResponse): void {
  const fitted = fitKeyList(response, (payload) => query.fits(payload), host.responseSizeLimit);
  if (!fitted) {
    host.log?.('error', 'serf: Failed to truncate response so that it fits into message');
    return;
  }
  if (fitted.truncated) host.log?.('warn', `serf: truncated key list response`);
  respond(query, host, fitted.payload);
}

function respond(query: IncomingQuery, host: InternalQueryHost, payload: Uint8Array): void {
  try {
    query.respond(payload);
  } catch (err) {
    host.log?.('error', `serf: Failed to respond to ${query.name} query: ${(err as Error).message}`);
  }
}
