// Evaluates a parsed filter against one item: a JSON value shaped like Consul's API responses.
//
// go-bexpr checks selectors, operators and literals against the Go struct's schema before filtering, and
// Consul answers 400 when they do not fit. We filter plain JSON and have no schema, so:
// - A field or map key that is absent (or null) is a missing value, which bexpr defines for map keys:
//   `==`, `in`/`contains`, `is not empty` and `matches` are false, their negations true. (bexpr v0.1.2
//   also makes `matches` true there, which reads as a slip; we keep `matches` and `not matches` opposite.)
//   An unknown top-level field therefore filters like an absent map key instead of failing.
// - An operator the value's type does not support (`==` on a list, `matches` on a number), a literal that
//   cannot be coerced (`Port == abc`), or selecting into a string or number throws EvaluationError, where
//   Consul would have refused the expression.
// - A selector that continues through a list (`Checks.Status` on a health entry) applies the whole
//   match to each element and is true if ANY element matches, as bexpr's evaluateMatchExpressionRecurse
//   does for slices of structs. So `Checks.Status != passing` means "some check is not passing", and
//   both it and `Checks.Status == passing` are false when there are no checks.

import { parseGoBool } from '../../util/go-bool.ts';
import { quote } from './lexer.ts';
import type { Expr, MatchExpr } from './parser.ts';

export class EvaluationError extends Error {}

type Json = string | number | boolean | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export function evaluate(expr: Expr, item: unknown): boolean {
  switch (expr.kind) {
    case 'or':
      return expr.operands.some((operand) => evaluate(operand, item));
    case 'and':
      return expr.operands.every((operand) => evaluate(operand, item));
    case 'not':
      return !evaluate(expr.operand, item);
    case 'match':
      return matchAt(expr, item, 0);
  }
}

function matchAt(m: MatchExpr, value: unknown, depth: number): boolean {
  if (value === undefined || value === null) return missing(m);
  if (depth === m.selector.length) return apply(m, value as Json);
  if (Array.isArray(value)) return value.some((element) => matchAt(m, element, depth));
  if (typeof value === 'object') {
    const key = m.selector[depth]!;
    return matchAt(m, Object.hasOwn(value, key) ? (value as JsonObject)[key] : undefined, depth + 1);
  }
  const at = m.selector.slice(0, depth).join('.');
  throw new EvaluationError(
    `Selector ${quote(m.selector.join('.'))} is not valid: ${quote(at)} is a ${typeName(value as Json)}`,
  );
}

function missing(m: MatchExpr): boolean {
  return !(
    m.operator === 'Equal' ||
    m.operator === 'In' ||
    m.operator === 'Is Not Empty' ||
    m.operator === 'Matches'
  );
}

function apply(m: MatchExpr, value: Json): boolean {
  switch (m.operator) {
    case 'Equal':
      return equals(m, value);
    case 'Not Equal':
      return !equals(m, value);
    case 'In':
      return contains(m, value);
    case 'Not In':
      return !contains(m, value);
    case 'Is Empty':
      return isEmpty(m, value);
    case 'Is Not Empty':
      return !isEmpty(m, value);
    case 'Matches':
      return matches(m, value);
    case 'Not Matches':
      return !matches(m, value);
  }
}

function equals(m: MatchExpr, value: Json): boolean {
  if (typeof value === 'string') return value === m.value;
  if (typeof value === 'number' || typeof value === 'boolean') {
    const literal = coerce(m.value, value);
    if (literal === undefined) {
      throw new EvaluationError(
        `Failed to coerce value ${quote(m.value)} for selector ${selectorOf(m)}: invalid syntax`,
      );
    }
    return literal === value;
  }
  throw unsupported(m, value);
}

// Substring for strings, element for lists, key for maps.
function contains(m: MatchExpr, value: Json): boolean {
  if (typeof value === 'string') return value.includes(m.value);
  if (Array.isArray(value)) {
    // Elements are compared as `==` would, but a literal that does not fit an element just differs from it.
    return value.some((element) =>
      typeof element === 'string' ? element === m.value : coerce(m.value, element) === element,
    );
  }
  if (typeof value === 'object') return Object.hasOwn(value, m.value);
  throw unsupported(m, value);
}

function isEmpty(m: MatchExpr, value: Json): boolean {
  if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  throw unsupported(m, value);
}

function matches(m: MatchExpr, value: Json): boolean {
  if (typeof value === 'string') return m.regex!(value);
  throw unsupported(m, value);
}

// The literal as the selected value's type, or undefined if it cannot be read as one.
function coerce(raw: string, like: Json): number | boolean | undefined {
  if (typeof like === 'number') return parseGoNumber(raw);
  if (typeof like === 'boolean') return parseGoBool(raw);
  return undefined;
}

// strconv.ParseInt with base 0 (0x, 0b, 0o and a bare leading 0 for octal; `_` between digits),
// else strconv.ParseFloat's decimal forms.
const GO_INTEGER =
  /^[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)$/;
const GO_FLOAT = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$/i;

function parseGoNumber(raw: string): number | undefined {
  const sign = raw.startsWith('-') ? -1 : 1;
  const unsigned = raw.replace(/^[+-]/, '');
  if (GO_INTEGER.test(raw)) {
    const digits = unsigned.replaceAll('_', '');
    return sign * Number(/^0[0-7]/.test(digits) ? `0o${digits.slice(1)}` : digits);
  }
  if (!GO_FLOAT.test(raw)) return undefined;
  if (/^inf/i.test(unsigned)) return sign * Number.POSITIVE_INFINITY;
  return Number(unsigned) * sign; // NaN for "nan": equal to nothing, as in Go
}

function unsupported(m: MatchExpr, value: Json): EvaluationError {
  return new EvaluationError(
    `Invalid match operator "${m.operator}" for selector ${selectorOf(m)}: the value is a ${typeName(value)}`,
  );
}

const selectorOf = (m: MatchExpr) => quote(m.selector.join('.'));

function typeName(value: Json): string {
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}
