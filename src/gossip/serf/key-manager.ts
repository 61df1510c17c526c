import { SerfMessageType } from '../wire/serf-messages.ts';
import {
  decodeNodeKeyResponse,
  encodeKeyRequest,
  InternalQuery,
  internalQueryName,
} from './internal-query.ts';
import type { NodeResponse, QueryParams, QueryResult } from './query.ts';

// serf's KeyManager: a keyring operation is a query to every member of the pool; each member applies it to
// its own keyring and answers whether it worked (and, for a list, which keys it holds). The answers are
// tallied into one KeyResponse, and the operation failed unless every member the pool counts alive answered
// and none reported a failure.

export type KeyOperation = 'install' | 'use' | 'remove' | 'list';

const QUERY_OF: Record<KeyOperation, string> = {
  install: InternalQuery.installKey,
  use: InternalQuery.useKey,
  remove: InternalQuery.removeKey,
  list: InternalQuery.listKeys,
};

/** serf's KeyResponse. */
export interface KeyResponse {
  /** What each node that failed (or had a note) said, by node name. */
  messages: Record<string, string>;
  /** Members memberlist counted alive when the query went out. */
  numNodes: number;
  numResp: number;
  numErr: number;
  /** Each key (base64) and how many nodes hold it. */
  keys: Record<string, number>;
  /** Each primary key (base64) and how many nodes use it. */
  primaryKeys: Record<string, number>;
}

/** An operation's tally, and serf's error when it did not succeed everywhere. */
export interface KeyOperationResult {
  response: KeyResponse;
  error?: string;
}

/** What the key manager needs of a pool. */
export interface QueryRunner {
  /** Members memberlist counts alive, this node included. */
  numMembers(): number;
  /** Runs a query to its deadline, or until `enough` says the answers so far suffice. */
  query(
    name: string,
    payload: Uint8Array,
    params: QueryParams,
    enough?: (result: QueryResult) => boolean,
  ): Promise<QueryResult>;
}

export const emptyKeyResponse = (): KeyResponse => ({
  messages: {},
  numNodes: 0,
  numResp: 0,
  numErr: 0,
  keys: {},
  primaryKeys: {},
});

/** serf's streamKeyResp: tallies the answers, reading no further once every counted node answered. */
export function tallyKeyResponses(numNodes: number, responses: readonly NodeResponse[]): KeyResponse {
  const out = { ...emptyKeyResponse(), numNodes };
  for (const { from, payload } of responses) {
    out.numResp++;
    let answer: ReturnType<typeof decodeNodeKeyResponse> | undefined;
    try {
      answer = decodeNodeKeyResponse(payload);
    } catch {
      const bytes = `[${[...payload].join(' ')}]`;
      out.messages[from] =
        payload.length < 1 || payload[0] !== SerfMessageType.keyResponse
          ? `Invalid key query response type: ${bytes}`
          : `Failed to decode key query response: ${bytes}`;
      out.numErr++;
    }
    if (answer) {
      if (!answer.Result) {
        out.messages[from] = answer.Message;
        out.numErr++;
      } else if (answer.Message !== '') {
        out.messages[from] = answer.Message;
      }
      for (const key of answer.Keys) out.keys[key] = (out.keys[key] ?? 0) + 1;
      // Members older than serf 0.9.6 do not say which key is primary.
      if (answer.Result && answer.PrimaryKey !== '') {
        out.primaryKeys[answer.PrimaryKey] = (out.primaryKeys[answer.PrimaryKey] ?? 0) + 1;
      }
    }
    if (out.numResp === out.numNodes) break;
  }
  return out;
}

/** serf's verdict on a tally: every counted node answered and none failed, or the error saying otherwise. */
export function keyResponseError(response: KeyResponse): string | undefined {
  if (response.numErr !== 0) return `${response.numErr}/${response.numNodes} nodes reported failure`;
  if (response.numResp !== response.numNodes) {
    return `${response.numResp}/${response.numNodes} nodes reported success`;
  }
  return undefined;
}

export class KeyManager {
  /** serf runs one keyring operation at a time. */
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly pool: QueryRunner) {}

  /**
   * Runs `op` with `key` (base64; ignored for a list) across the pool. Never rejects: a key that is not
   * base64, or a query that cannot be sent, is the result's error, as serf returns it with an empty tally.
   */
  run(op: KeyOperation, key: string, options: { relayFactor?: number } = {}): Promise<KeyOperationResult> {
    const next = this.last.then(() => this.execute(op, op === 'list' ? '' : key, options.relayFactor ?? 0));
    this.last = next.catch(() => undefined);
    return next;
  }

  private async execute(op: KeyOperation, key: string, relayFactor: number): Promise<KeyOperationResult> {
    let raw: Uint8Array;
    try {
      raw = decodeStdBase64(key);
    } catch (err) {
      return { response: emptyKeyResponse(), error: (err as Error).message };
    }
    const numNodes = this.pool.numMembers();
    let result: QueryResult;
    try {
      result = await this.pool.query(
        internalQueryName(QUERY_OF[op]),
        encodeKeyRequest(raw),
        { relayFactor },
        (sofar) => sofar.responses.length >= numNodes,
      );
    } catch (err) {
      return { response: emptyKeyResponse(), error: (err as Error).message };
    }
    const response = tallyKeyResponses(numNodes, result.responses);
    const error = keyResponseError(response);
    return error === undefined ? { response } : { response, error };
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Go's base64.StdEncoding.DecodeString: padding required, line breaks skipped, anything else refused with
 * Go's error, `illegal base64 data at input byte N`.
 */
export function decodeStdBase64(text: string): Uint8Array {
  const corrupt = (at: number) => new Error(`illegal base64 data at input byte ${at}`);
  const isBreak = (ch: string | undefined) => ch === '\n' || ch === '\r';
  const out: number[] = [];
  let si = 0;
  for (;;) {
    const quantum = [0, 0, 0, 0];
    let length = 4;
    for (let j = 0; j < 4; j++) {
      if (si === text.length) {
        if (j === 0) return Uint8Array.from(out);
        throw corrupt(si - j);
      }
      const ch = text[si]!;
      si++;
      const value = ALPHABET.indexOf(ch);
      if (value >= 0) {
        quantum[j] = value;
        continue;
      }
      if (isBreak(ch)) {
        j--;
        continue;
      }
      if (ch !== '=' || j < 2) throw corrupt(si - 1);
      // Padding: two characters of data take "==", three take "=".
      if (j === 2) {
        while (isBreak(text[si])) si++;
        if (si === text.length) throw corrupt(text.length);
        if (text[si] !== '=') throw corrupt(si - 1);
        si++;
      }
      while (isBreak(text[si])) si++;
      if (si < text.length) throw corrupt(si);
      length = j;
      break;
    }
    const bits = (quantum[0]! << 18) | (quantum[1]! << 12) | (quantum[2]! << 6) | quantum[3]!;
    out.push((bits >> 16) & 0xff);
    if (length > 2) out.push((bits >> 8) & 0xff);
    if (length > 3) out.push(bits & 0xff);
    if (length < 4) return Uint8Array.from(out);
  }
}
