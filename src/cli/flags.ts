// A flag parser with the semantics of Go's `flag` package, which Consul's CLI uses: `-name` and `--name` are
// the same flag, values come as `-name=value` or `-name value`, booleans take no separate value, parsing stops
// at the first positional argument or after `--`, and errors read as Go prints them. Common option parsers
// treat `-abc` as three short options, which would break scripts written for Consul.

import { formatDuration, parseDuration } from '../util/duration.ts';
import { parseGoBool } from '../util/go-bool.ts';

/** One flag: its name, help text, default, and how a command-line value updates it. */
export interface FlagDef<T> {
  readonly name: string;
  readonly usage: string;
  readonly defaultValue: T;
  /** Boolean flags take no separate argument: `-recurse` sets true, `-recurse=false` sets false. */
  readonly isBool: boolean;
  /** Go's name for the value in help (`-flags=<uint>`), or '' for none. */
  readonly typeName: string;
  /** Returns the value after one more occurrence of the flag; throws an Error whose message is Go's reason. */
  set(raw: string, current: T): T;
  /** The default as help shows it, or '' for a zero value, which help leaves out as Go's PrintDefaults does. */
  show(value: T): string;
}

export type FlagSpec = Record<string, FlagDef<unknown>>;
export type FlagValues<S extends FlagSpec> = {
  -readonly [K in keyof S]: S[K] extends FlagDef<infer T> ? T : never;
};

export interface ParsedFlags<S extends FlagSpec> {
  flags: FlagValues<S>;
  /** The positional arguments: everything from the first non-flag argument, or after `--`. */
  args: string[];
  /** Keys of the flags that appeared on the command line, so callers can tell "not given" from the default. */
  given: Set<keyof S>;
}

/** A command-line error, worded as Go's flag package words it. */
export class FlagError extends Error {}

/** `-h` or `-help` was given (and the command defines no such flag). */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
  }
}

const PARSE_ERROR = 'parse error';
const RANGE_ERROR = 'value out of range';

export function boolFlag(name: string, usage: string, defaultValue = false): FlagDef<boolean> {
  return {
    name,
    usage,
    defaultValue,
    isBool: true,
    typeName: '',
    set: (raw) => parseFlagBool(raw),
    show: (value) => (value ? 'true' : ''),
  };
}

export function stringFlag(name: string, usage: string, defaultValue = ''): FlagDef<string> {
  return {
    name,
    usage,
    defaultValue,
    isBool: false,
    typeName: 'string',
    set: (raw) => raw,
    show: (value) => value,
  };
}

/** A Go `int` (64-bit here). Values are small in practice (ports, counts), so a JS number holds them. */
export function intFlag(name: string, usage: string, defaultValue = 0): FlagDef<number> {
  return {
    name,
    usage,
    defaultValue,
    isBool: false,
    typeName: 'int',
    set: (raw) => Number(parseGoInteger(raw, true)),
    show: (value) => (value === 0 ? '' : String(value)),
  };
}

/** A Go `uint64`, kept as a bigint because KV flags and indexes may use all 64 bits. */
export function uintFlag(name: string, usage: string, defaultValue = 0n): FlagDef<bigint> {
  return {
    name,
    usage,
    defaultValue,
    isBool: false,
    typeName: 'uint',
    set: (raw) => parseGoInteger(raw, false),
    show: (value) => (value === 0n ? '' : String(value)),
  };
}

/** A Go `time.Duration` (`10s`, `1m30s`), kept in nanoseconds. */
export function durationFlag(name: string, usage: string, defaultValue = 0): FlagDef<number> {
  return {
    name,
    usage,
    defaultValue,
    isBool: false,
    typeName: 'duration',
    set: (raw) => {
      try {
        return parseDuration(raw);
      } catch {
        throw new Error(PARSE_ERROR);
      }
    },
    show: (value) => (value === 0 ? '' : formatDuration(value)),
  };
}

/** A flag that may be repeated; every occurrence is kept, in order. */
export function listFlag(name: string, usage: string): FlagDef<string[]> {
  return {
    name,
    usage,
    defaultValue: [],
    isBool: false,
    typeName: 'value',
    set: (raw, current) => [...current, raw],
    show: () => '',
  };
}

/** A repeatable `key=value` flag collected into an object (Consul's FlagMapValue); later keys win. */
export function mapFlag(name: string, usage: string): FlagDef<Record<string, string>> {
  return {
    name,
    usage,
    defaultValue: {},
    isBool: false,
    typeName: 'value',
    set: (raw, current) => {
      const at = raw.indexOf('=');
      if (at === -1) throw new Error(`Missing "=" value in argument: ${raw}`);
      return { ...current, [raw.slice(0, at)]: raw.slice(at + 1) };
    },
    show: () => '',
  };
}

export function parseFlags<S extends FlagSpec>(spec: S, argv: readonly string[]): ParsedFlags<S> {
  const byName = new Map<string, keyof S>();
  const values: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(spec)) {
    byName.set(def.name, key);
    values[key] = def.defaultValue;
  }
  const given = new Set<keyof S>();

  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== '-') break;
    i++;
    if (arg === '--') break;
    const name = arg.slice(arg[1] === '-' ? 2 : 1);
    if (name === '' || name[0] === '-' || name[0] === '=') throw new FlagError(`bad flag syntax: ${arg}`);

    const eq = name.indexOf('=');
    const flagName = eq === -1 ? name : name.slice(0, eq);
    let value = eq === -1 ? undefined : name.slice(eq + 1);
    const key = byName.get(flagName);
    if (key === undefined) {
      if (flagName === 'h' || flagName === 'help') throw new HelpRequested();
      throw new FlagError(`flag provided but not defined: -${flagName}`);
    }
    const def = spec[key]!;
    if (def.isBool) {
      value ??= 'true';
    } else if (value === undefined) {
      // Like Go, the next argument is the value even when it starts with a dash.
      if (i >= argv.length) throw new FlagError(`flag needs an argument: -${flagName}`);
      value = argv[i++]!;
    }
    try {
      values[key as string] = def.set(value, values[key as string]);
    } catch (err) {
      const reason = (err as Error).message;
      throw new FlagError(
        def.isBool
          ? `invalid boolean value ${goQuote(value)} for -${flagName}: ${reason}`
          : `invalid value ${goQuote(value)} for flag -${flagName}: ${reason}`,
      );
    }
    given.add(key);
  }
  return { flags: values as FlagValues<S>, args: argv.slice(i), given };
}

function parseFlagBool(raw: string): boolean {
  const value = parseGoBool(raw);
  if (value === undefined) throw new Error(PARSE_ERROR);
  return value;
}

/**
 * Go's strconv.ParseInt/ParseUint with base 0, as the flag package calls them: optional sign (signed only),
 * `0x`/`0o`/`0b` or leading-`0` octal prefixes, `_` between digits, 64-bit range.
 */
export function parseGoInteger(raw: string, signed: boolean): bigint {
  let text = raw;
  let negative = false;
  if (signed && (text[0] === '+' || text[0] === '-')) {
    negative = text[0] === '-';
    text = text.slice(1);
  }
  const prefix = /^0[xXoObB]/.test(text) ? text.slice(0, 2).toLowerCase() : /^0./.test(text) ? '0' : '';
  const digitClass = { '0x': '[0-9a-fA-F]', '0b': '[01]', '0o': '[0-7]', '0': '[0-7]', '': '[0-9]' }[prefix]!;
  const body = text.slice(prefix.length);
  const underscore = prefix === '' ? '' : '_?';
  if (!new RegExp(`^${underscore}${digitClass}+(_${digitClass}+)*$`).test(body)) throw new Error(PARSE_ERROR);
  const digits = body.replaceAll('_', '');
  const magnitude = BigInt(prefix === '0' ? `0o${digits}` : `${prefix}${digits}`);
  const value = negative ? -magnitude : magnitude;
  const [min, max] = signed ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
  if (value < min || value > max) throw new Error(RANGE_ERROR);
  return value;
}

/** Go's %q for the strings a command line carries. */
function goQuote(text: string): string {
  return JSON.stringify(text);
}

export interface UsageSection {
  title: string;
  spec: FlagSpec;
}

/** Help for flags laid out as Consul prints it: a titled section per group, each flag then its wrapped text. */
export function formatFlagUsage(sections: readonly UsageSection[]): string {
  const out: string[] = [];
  for (const { title, spec } of sections) {
    const defs = Object.values(spec).sort((a, b) => (a.name < b.name ? -1 : 1));
    if (defs.length === 0) continue;
    out.push(title, '');
    for (const def of defs) {
      const { placeholder, text } = unquoteUsage(def);
      out.push(placeholder === '' ? `  -${def.name}` : `  -${def.name}=<${placeholder}>`);
      const shown = def.show(def.defaultValue);
      out.push(wrap(shown === '' ? text : `${text} (default: ${shown})`, 67, '     '), '');
    }
  }
  return out.join('\n').trimEnd();
}

/** Go's flag.UnquoteUsage: a `back-quoted` word in the help names the value; otherwise the type does. */
function unquoteUsage(def: FlagDef<unknown>): { placeholder: string; text: string } {
  const match = /`([^`]*)`/.exec(def.usage);
  if (match) return { placeholder: match[1]!, text: def.usage.replace(/`/g, '') };
  return { placeholder: def.typeName, text: def.usage };
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}
