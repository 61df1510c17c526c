// The AST of a filter expression and a parser for it, following go-bexpr's PEG grammar:
//
//   Or       <- And ("or" And)*
//   And      <- Not ("and" Not)*
//   Not      <- "not" Not / Group
//   Group    <- "(" Or ")" / Match
//   Match    <- Selector ("==" / "!=" / "contains" / "not contains" / "matches" / "not matches") Value
//             / Selector "is" "not"? "empty"
//             / Value ("in" / "not in") Selector
//   Selector <- Word ("." Word / "[" String "]")*
//   Value    <- Selector / Number / String
//
// Keywords are not reserved (a PEG tries alternatives in order), so `not == 1` compares a field named
// `not`: a failed `"not" Not` backtracks to Group. Other choices are decided by looking at most two
// tokens ahead.

import { ParseError, quote, type Token, tokenize } from './lexer.ts';
import { compileRegex, type Regex, RegexError } from './regex.ts';

/** go-bexpr's operator names, which Consul's error messages use. `contains` is `In` with the sides swapped. */
export type MatchOperator =
  | 'Equal'
  | 'Not Equal'
  | 'In'
  | 'Not In'
  | 'Is Empty'
  | 'Is Not Empty'
  | 'Matches'
  | 'Not Matches';

export interface MatchExpr {
  kind: 'match';
  selector: string[];
  operator: MatchOperator;
  /** The literal as written, unquoted; coerced to the selected value's type when evaluated. '' for emptiness. */
  value: string;
  regex?: Regex;
}

export type Expr =
  | { kind: 'or'; operands: Expr[] }
  | { kind: 'and'; operands: Expr[] }
  | { kind: 'not'; operand: Expr }
  | MatchExpr;

// Thrown to backtrack; when nothing matches, the error reports the furthest token any alternative reached.
const NO_MATCH = Symbol('no match');
const MAX_NESTING = 100; // parentheses and `not`s: keeps parsing and evaluation recursion shallow

class Parser {
  private i = 0;
  private depth = 0;
  private furthest = 0;
  private readonly expected = new Set<string>();

  constructor(private readonly tokens: Token[]) {}

  parse(): Expr {
    try {
      const expr = this.parseOr();
      if (this.peek().kind !== 'eof') this.fail('end of input');
      return expr;
    } catch (error) {
      if (error !== NO_MATCH) throw error;
      const token = this.tokens[this.furthest]!;
      const got = token.kind === 'eof' ? 'end of input' : quote(token.text, 24);
      throw new ParseError(token.pos, `no match found, expected: ${list([...this.expected])} (got ${got})`);
    }
  }

  private parseOr(): Expr {
    const operands = [this.parseAnd()];
    while (this.acceptWord('or')) operands.push(this.parseAnd());
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  private parseAnd(): Expr {
    const operands = [this.parseNot()];
    while (this.acceptWord('and')) operands.push(this.parseNot());
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  private parseNot(): Expr {
    const start = this.i;
    if (this.acceptWord('not')) {
      try {
        this.enter(start);
        return { kind: 'not', operand: this.parseNot() };
      } catch (error) {
        if (error !== NO_MATCH) throw error;
        this.i = start;
      } finally {
        this.depth--;
      }
    }
    return this.parseGroup();
  }

  private parseGroup(): Expr {
    const open = this.peek();
    if (!isSymbol(open, '(')) return this.parseMatch();
    this.enter(this.i);
    this.i++;
    try {
      const expr = this.parseOr();
      if (this.peek().kind === 'eof') throw new ParseError(open.pos, 'Unmatched parentheses');
      if (!isSymbol(this.peek(), ')')) this.fail('")"');
      this.i++;
      return expr;
    } finally {
      this.depth--;
    }
  }

  private parseMatch(): MatchExpr {
    const first = this.peek();
    if (first.kind === 'string' || first.kind === 'number') {
      this.i++;
      const negated = this.acceptWord('not');
      if (!this.acceptWord('in')) this.fail(...(negated ? ['"in"'] : ['"in"', '"not"']));
      return this.valueInSelector(first.value, negated);
    }
    if (first.kind !== 'word') this.fail('"("', '"not"', 'selector', 'value');
    const selector = this.parseSelector();
    const op = this.peek();
    const after = this.tokens[this.i + 1] ?? op; // op is the end-of-input token when nothing follows
    if (isSymbol(op, '==') || isSymbol(op, '!=')) {
      this.i++;
      return this.withValue(selector, op.value === '==' ? 'Equal' : 'Not Equal');
    }
    if (isWord(op, 'contains') || isWord(op, 'matches')) {
      this.i++;
      return this.withValue(selector, op.value === 'contains' ? 'In' : 'Matches');
    }
    if (isWord(op, 'in')) {
      this.i++;
      return this.valueInSelector(selector.join('.'), false);
    }
    if (isWord(op, 'not') && (isWord(after, 'contains') || isWord(after, 'matches'))) {
      this.i += 2;
      return this.withValue(selector, after.value === 'contains' ? 'Not In' : 'Not Matches');
    }
    if (isWord(op, 'not') && isWord(after, 'in')) {
      this.i += 2;
      return this.valueInSelector(selector.join('.'), true);
    }
    if (isWord(op, 'not')) {
      this.i++;
      this.fail('"contains"', '"matches"', '"in"');
    }
    if (this.acceptWord('is')) {
      const negated = this.acceptWord('not');
      if (!this.acceptWord('empty')) this.fail(...(negated ? ['"empty"'] : ['"empty"', '"not"']));
      return { kind: 'match', selector, operator: negated ? 'Is Not Empty' : 'Is Empty', value: '' };
    }
    return this.fail('"=="', '"!="', '"contains"', '"matches"', '"in"', '"not"', '"is"');
  }

  // `Value in Selector`: a bare-word value is the selector path joined with dots, as bexpr does.
  private valueInSelector(value: string, negated: boolean): MatchExpr {
    const token = this.peek();
    if (token.kind !== 'word') throw new ParseError(token.pos, 'Invalid selector');
    return { kind: 'match', selector: this.parseSelector(), operator: negated ? 'Not In' : 'In', value };
  }

  private withValue(selector: string[], operator: MatchOperator): MatchExpr {
    const token = this.peek();
    let value: string;
    if (token.kind === 'word') {
      value = this.parseSelector().join('.');
    } else if (token.kind === 'string' || token.kind === 'number') {
      this.i++;
      value = token.value;
    } else {
      return this.fail('value');
    }
    const match: MatchExpr = { kind: 'match', selector, operator, value };
    if (operator !== 'Matches' && operator !== 'Not Matches') return match;
    try {
      return { ...match, regex: compileRegex(value) }; // compiled once, so a bad pattern fails here
    } catch (error) {
      if (!(error instanceof RegexError)) throw error;
      throw new ParseError(
        token.pos,
        `Failed to compile regular expression ${quote(value)}: ${error.message}`,
      );
    }
  }

  // Word ("." Word / "[" String "]")*, written without whitespace between the parts.
  private parseSelector(): string[] {
    const path = [this.peek().value];
    this.i++;
    for (let t = this.peek(); !t.spaced; t = this.peek()) {
      if (isSymbol(t, '.')) {
        this.i++;
        const name = this.peek();
        if (name.kind !== 'word' || name.spaced) this.fail('identifier');
        path.push(name.value);
        this.i++;
      } else if (isSymbol(t, '[')) {
        this.i++;
        const key = this.peek();
        if (key.kind !== 'string') throw new ParseError(key.pos, 'Invalid index');
        this.i++;
        if (!isSymbol(this.peek(), ']')) throw new ParseError(this.peek().pos, 'Unclosed index expression');
        this.i++;
        path.push(key.value);
      } else {
        break;
      }
    }
    return path;
  }

  private enter(tokenIndex: number): void {
    if (++this.depth > MAX_NESTING) {
      throw new ParseError(
        this.tokens[tokenIndex]!.pos,
        `expression nests more than ${MAX_NESTING} levels deep`,
      );
    }
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  // Consumes the keyword if it is next; otherwise records it as one the input could have continued with.
  private acceptWord(word: string): boolean {
    if (isWord(this.peek(), word)) {
      this.i++;
      return true;
    }
    this.note(`"${word}"`);
    return false;
  }

  private note(...expected: string[]): void {
    if (this.i > this.furthest) {
      this.furthest = this.i;
      this.expected.clear();
    }
    if (this.i === this.furthest) for (const e of expected) this.expected.add(e);
  }

  private fail(...expected: string[]): never {
    this.note(...expected);
    throw NO_MATCH;
  }
}

const isWord = (t: Token, word: string) => t.kind === 'word' && t.value === word;
const isSymbol = (t: Token, symbol: string) => t.kind === 'symbol' && t.value === symbol;
const list = (items: string[]) =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : (items[0] ?? 'nothing');

/** Parses a filter expression; throws ParseError (with a character offset) when it is not valid. */
export function parse(source: string): Expr {
  return new Parser(tokenize(source)).parse();
}
