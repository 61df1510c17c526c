import { durationFromJson, formatDuration } from '../util/duration.ts';
import { goEscapeHtml } from '../util/json.ts';

// Consul's watches hand their handlers Go values, decoded from the API's JSON into the api package's structs
// and encoded again. That round trip drops fields the struct lacks, fills absent ones with zero values, leaves
// out empty `omitempty` fields and sorts map keys. This file describes Go types and performs the round trip,
// so a handler receives the bytes Consul's would.

export type GoType =
  | { kind: 'string' | 'int' | 'bool' | 'bytes' | 'duration' | 'any' }
  | { kind: 'slice' | 'map' | 'ptr'; elem: GoType }
  | { kind: 'struct'; fields: readonly GoField[] };

export interface GoField {
  name: string;
  type: GoType;
  omitempty?: boolean;
}

/** A Go struct or map after encoding: its keys in the order Go writes them. */
export class GoObject {
  constructor(readonly entries: readonly (readonly [string, GoValue])[]) {}
}

export type GoValue = null | boolean | number | bigint | string | GoValue[] | GoObject;

export const goString: GoType = { kind: 'string' };
export const goInt: GoType = { kind: 'int' };
export const goBool: GoType = { kind: 'bool' };
export const goBytes: GoType = { kind: 'bytes' };
/** A time.Duration written as Go's String() ("10s"), as some Consul types marshal theirs. */
export const goDuration: GoType = { kind: 'duration' };
/** interface{}: whatever JSON holds, with map keys sorted. */
export const goAny: GoType = { kind: 'any' };
export const sliceOf = (elem: GoType): GoType => ({ kind: 'slice', elem });
export const mapOf = (elem: GoType): GoType => ({ kind: 'map', elem });
export const ptrTo = (elem: GoType): GoType => ({ kind: 'ptr', elem });
export const struct = (...fields: GoField[]): GoType => ({ kind: 'struct', fields });
export const field = (name: string, type: GoType, omitempty = false): GoField => ({ name, type, omitempty });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Decodes `json` into `type` as encoding/json would, then returns what encoding it again writes. */
export function toGo(type: GoType, json: unknown): GoValue {
  switch (type.kind) {
    case 'string':
      return typeof json === 'string' ? json : '';
    case 'int':
      return typeof json === 'number' || typeof json === 'bigint' ? json : 0;
    case 'bool':
      return json === true;
    case 'bytes':
      return typeof json === 'string' ? json : null;
    case 'duration':
      return formatDuration(json === undefined || json === null || json === '' ? 0 : durationFromJson(json));
    case 'any':
      return anyToGo(json);
    case 'slice':
      return Array.isArray(json) ? json.map((item) => toGo(type.elem, item)) : null;
    case 'map':
      return isRecord(json) ? sortedObject(json, (item) => toGo(type.elem, item)) : null;
    case 'ptr':
      return json === null || json === undefined ? null : toGo(type.elem, json);
    case 'struct': {
      const source = isRecord(json) ? json : {};
      const entries: [string, GoValue][] = [];
      for (const f of type.fields) {
        const value = toGo(f.type, source[f.name]);
        if (!(f.omitempty && isEmpty(value, f.type))) entries.push([f.name, value]);
      }
      return new GoObject(entries);
    }
  }
}

/** Go's JSON: compact (json.Encoder, without its newline) or indented (MarshalIndent with `indent`). */
export function encodeGo(value: GoValue, indent = ''): string {
  return goEscapeHtml(write(value, indent, ''));
}

function write(value: GoValue, indent: string, at: string): string {
  if (value instanceof GoObject) {
    const parts = value.entries.map(
      ([k, v]) => `${JSON.stringify(k)}:${indent ? ' ' : ''}${write(v, indent, at + indent)}`,
    );
    return wrap('{', '}', parts, indent, at);
  }
  if (Array.isArray(value)) {
    return wrap(
      '[',
      ']',
      value.map((v) => write(v, indent, at + indent)),
      indent,
      at,
    );
  }
  return typeof value === 'bigint' ? String(value) : JSON.stringify(value);
}

function wrap(open: string, close: string, parts: string[], indent: string, at: string): string {
  if (parts.length === 0) return open + close;
  if (!indent) return `${open}${parts.join(',')}${close}`;
  const inner = at + indent;
  return `${open}\n${inner}${parts.join(`,\n${inner}`)}\n${at}${close}`;
}

/** Go's omitempty: false, 0, "", and nil or empty slices and maps; structs are never empty. */
function isEmpty(value: GoValue, type: GoType): boolean {
  if (type.kind === 'struct') return false;
  if (value === null || value === false || value === 0 || value === 0n || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return type.kind === 'map' && value instanceof GoObject && value.entries.length === 0;
}

function anyToGo(json: unknown): GoValue {
  if (Array.isArray(json)) return json.map(anyToGo);
  if (isRecord(json)) return sortedObject(json, anyToGo);
  if (json === undefined) return null;
  return json as GoValue;
}

/** Go writes map keys sorted bytewise (JS objects would put integer-like keys first). */
function sortedObject(map: Record<string, unknown>, convert: (item: unknown) => GoValue): GoObject {
  const keys = Object.keys(map).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return new GoObject(keys.map((k) => [k, convert(map[k])]));
}
