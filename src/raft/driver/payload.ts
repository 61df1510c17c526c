import { decode, encode } from '@msgpack/msgpack';
import type { NodeId } from '../core/types.ts';

// What the data of a `command` log entry holds: a tag byte, then the bytes of what it names. The core treats
// it as opaque; the driver reads the tag to tell state-machine commands from its own records.
//
//   1 command     an encoded state command (state/codec.ts), applied by the FSM
//   2 restore     a whole encoded state (state.bin): every server replaces its state at this index
//   3 addresses   msgpack [[id, address], ...]: where servers are reached, in force once appended

const TAG = { command: 1, restore: 2, addresses: 3 } as const;

export interface ServerAddress {
  id: NodeId;
  address: string;
}

export type Payload =
  | { kind: 'command'; bytes: Uint8Array }
  | { kind: 'restore'; bytes: Uint8Array }
  | { kind: 'addresses'; servers: ServerAddress[] };

export function encodePayload(payload: Payload): Uint8Array {
  const body =
    payload.kind === 'addresses'
      ? encode(payload.servers.map(({ id, address }) => [id, address]))
      : payload.bytes;
  const bytes = new Uint8Array(1 + body.length);
  bytes[0] = TAG[payload.kind];
  bytes.set(body, 1);
  return bytes;
}

/** The payload of an entry's data; throws on anything the driver did not write. */
export function decodePayload(data: Uint8Array): Payload {
  const body = data.subarray(1);
  switch (data[0]) {
    case TAG.command:
      return { kind: 'command', bytes: body };
    case TAG.restore:
      return { kind: 'restore', bytes: body };
    case TAG.addresses:
      return { kind: 'addresses', servers: decodeAddresses(body) };
    default:
      throw new Error(`unknown raft payload tag ${String(data[0])}`);
  }
}

/** Whether entry data is an address record, without decoding anything else. */
export const isAddressRecord = (data: Uint8Array): boolean => data[0] === TAG.addresses;

function decodeAddresses(body: Uint8Array): ServerAddress[] {
  const value = decode(body);
  if (!Array.isArray(value)) throw new Error('raft address record is not a list');
  return value.map((pair: unknown) => {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new Error('raft address record holds a malformed pair');
    }
    return { id: pair[0], address: pair[1] };
  });
}
