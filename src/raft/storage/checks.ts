import { StorageError } from './errors.ts';

/** Indexes and terms are non-negative safe integers; anything else is a caller bug worth naming. */
export function requireCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new StorageError(`${what} must be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  return String(value);
}
