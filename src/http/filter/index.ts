// Consul's `?filter` expressions (hashicorp/go-bexpr). See parser.ts for the grammar and evaluate.ts for
// how selectors and operators apply to JSON items.

import { EvaluationError, evaluate } from './evaluate.ts';
import { ParseError } from './lexer.ts';
import { type Expr, parse } from './parser.ts';

/** A filter that cannot be used. Consul answers it as an internal error (500) with this message. */
export class FilterError extends Error {
  override name = 'FilterError';
}

/** Tests one item; throws FilterError when the expression does not fit the item's shape (see evaluate.ts). */
export type Filter = (item: unknown) => boolean;

const MAX_EXPRESSION_LENGTH = 4096;
const MAX_MESSAGE_LENGTH = 200;
const PREFIX = 'Failed to create boolean expression evaluator: ';

function filterError(detail: string): FilterError {
  const message = PREFIX + detail;
  return new FilterError(
    message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message,
  );
}

// pigeon's (go-bexpr's parser generator's) position format: line:column (offset).
function position(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${line}:${column} (${offset})`;
}

/** Compiles a filter expression; throws FilterError when it is not valid. */
export function compileFilter(expression: string): Filter {
  if (typeof expression !== 'string') throw filterError('the filter expression must be a string');
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw filterError(
      `the expression is ${expression.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH}`,
    );
  }
  let ast: Expr;
  try {
    ast = parse(expression);
  } catch (error) {
    if (error instanceof ParseError)
      throw filterError(`${position(expression, error.pos)}: ${error.message}`);
    throw error;
  }
  return (item) => {
    try {
      return evaluate(ast, item);
    } catch (error) {
      if (error instanceof EvaluationError) throw filterError(error.message);
      throw error;
    }
  };
}

/** The items the expression selects, in order; no expression (undefined or '') selects them all. */
export function applyFilter<T>(items: T[], expression: string | undefined): T[] {
  if (expression === undefined || expression === '') return items;
  const filter = compileFilter(expression);
  return items.filter((item) => filter(item));
}

/** For maps Consul filters by value (agent/services, agent/checks): the entries whose values it selects. */
export function applyFilterToMap<T>(
  map: Record<string, T>,
  expression: string | undefined,
): Record<string, T> {
  if (expression === undefined || expression === '') return map;
  const filter = compileFilter(expression);
  return Object.fromEntries(Object.entries(map).filter(([, value]) => filter(value)));
}
