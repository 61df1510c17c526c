import { decode, encode } from '@msgpack/msgpack';

// The replicated state machine of the simulation: a map of registers with put and compare-and-set. A failed
// cas reports the value it found, so every completed operation observes or sets the register.

export type KvCommand =
  | { op: 'put'; key: string; value: string }
  | { op: 'cas'; key: string; expected: string | null; value: string };

export type CasResult = { ok: true } | { ok: false; current: string | null };

export const encodeCommand = (command: KvCommand): Uint8Array => encode(command);
export const decodeCommand = (data: Uint8Array): KvCommand => decode(data) as KvCommand;

export class KvStore {
  private readonly data = new Map<string, string>();

  apply(command: KvCommand): CasResult {
    const current = this.data.get(command.key) ?? null;
    if (command.op === 'cas' && current !== command.expected) return { ok: false, current };
    this.data.set(command.key, command.value);
    return { ok: true };
  }

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  serialize(): Uint8Array {
    return encode([...this.data].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  static restore(bytes: Uint8Array): KvStore {
    const store = new KvStore();
    if (bytes.byteLength === 0) return store;
    for (const [key, value] of decode(bytes) as [string, string][]) store.data.set(key, value);
    return store;
  }

  /** A comparable rendering of the whole state. */
  digest(): string {
    return JSON.stringify([...this.data].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
