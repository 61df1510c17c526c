// Tokens of Consul's filter language (go-bexpr's grammar). Keywords (`and`, `in`, `not`...) are plain words
// here: bexpr lets them double as selectors and bare values, so only the parser can tell which they are.

/** A syntax error at a character offset of the expression. */
export class ParseError extends Error {
  constructor(
    readonly pos: number,
    message: string,
  ) {
    super(message);
  }
}

export type TokenKind = 'word' | 'string' | 'number' | 'symbol' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The word, the decoded string, the number as written, or the symbol. */
  value: string;
  /** The source text, for error messages. */
  text: string;
  pos: number;
  /** Whitespace precedes the token: selector parts (`a.b`, `a["b"]`) must be written without it. */
  spaced: boolean;
}

/** User text quoted for an error message, cut short so messages stay readable. */
export function quote(text: string, max = 32): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

// bexpr's NumberLiteral: no leading zeros, no exponent, and it must end at whitespace, `)` or the end.
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?/y;
const WORD = /[a-zA-Z][a-zA-Z0-9_]*/y;
const SIMPLE_ESCAPES = new Map([
  ['a', '\x07'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
  ['v', '\v'],
  ['\\', '\\'],
  ['"', '"'],
]);
const utf8 = new TextDecoder();

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let spaced = false;
  const push = (kind: TokenKind, value: string, start: number) => {
    tokens.push({ kind, value, text: src.slice(start, i), pos: start, spaced });
    spaced = false;
  };
  while (i < src.length) {
    const c = src[i]!;
    const start = i;
    if (isSpace(c)) {
      i++;
      spaced = true;
    } else if (/[a-zA-Z]/.test(c)) {
      WORD.lastIndex = i;
      WORD.exec(src);
      i = WORD.lastIndex;
      push('word', src.slice(start, i), start);
    } else if (/[0-9-]/.test(c)) {
      NUMBER.lastIndex = i;
      if (!NUMBER.exec(src)) throw new ParseError(start, `unexpected character ${quote(c)}`);
      i = NUMBER.lastIndex;
      if (i < src.length && !isSpace(src[i]) && src[i] !== ')')
        throw new ParseError(start, 'Invalid number literal');
      push('number', src.slice(start, i), start);
    } else if (c === '"') {
      const [value, end] = readQuoted(src, start);
      i = end;
      push('string', value, start);
    } else if (c === '`') {
      const end = src.indexOf('`', start + 1);
      if (end < 0) throw new ParseError(start, 'Unterminated string literal');
      i = end + 1;
      // Go's strconv.Unquote drops carriage returns from raw strings.
      push('string', src.slice(start + 1, end).replaceAll('\r', ''), start);
    } else if ((c === '=' || c === '!') && src[i + 1] === '=') {
      i += 2;
      push('symbol', `${c}=`, start);
    } else if ('()[].'.includes(c)) {
      i++;
      push('symbol', c, start);
    } else {
      throw new ParseError(start, `unexpected character ${quote(String.fromCodePoint(src.codePointAt(i)!))}`);
    }
  }
  tokens.push({ kind: 'eof', value: '', text: '', pos: src.length, spaced });
  return tokens;
}

// A double-quoted string with Go's escapes (bexpr unquotes with strconv.Unquote). bexpr itself ends the
// string at the first `"` even after a backslash; accepting `\"` only admits expressions it rejects.
function readQuoted(src: string, start: number): [string, number] {
  let out = '';
  let bytes: number[] = []; // \x and octal escapes are bytes; runs of them are decoded as UTF-8
  const flush = () => {
    if (bytes.length > 0) out += utf8.decode(new Uint8Array(bytes));
    bytes = [];
  };
  let i = start + 1;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') {
      flush();
      return [out, i + 1];
    }
    if (c === '\n') throw new ParseError(i, 'newline in string literal');
    if (c !== '\\') {
      flush();
      out += c;
      i++;
      continue;
    }
    const e = src[i + 1];
    if (e === undefined) break;
    const bad = (length: number) =>
      new ParseError(i, `invalid escape sequence ${quote(src.slice(i, i + length))} in string literal`);
    const simple = SIMPLE_ESCAPES.get(e);
    if (simple !== undefined) {
      flush();
      out += simple;
      i += 2;
    } else if (e === 'x' || /[0-7]/.test(e)) {
      const [digits, radix] = e === 'x' ? [src.slice(i + 2, i + 4), 16] : [src.slice(i + 1, i + 4), 8];
      const valid = radix === 16 ? /^[0-9a-fA-F]{2}$/ : /^[0-7]{3}$/;
      const byte = Number.parseInt(digits, radix);
      if (!valid.test(digits) || byte > 255) throw bad(4);
      bytes.push(byte);
      i += 4; // \xHH and \ooo are both four characters
    } else if (e === 'u' || e === 'U') {
      const length = e === 'u' ? 4 : 8;
      const digits = src.slice(i + 2, i + 2 + length);
      const cp = Number.parseInt(digits, 16);
      const valid = digits.length === length && /^[0-9a-fA-F]+$/.test(digits);
      if (!valid || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw bad(2 + length);
      flush();
      out += String.fromCodePoint(cp);
      i += 2 + length;
    } else {
      throw bad(2);
    }
  }
  throw new ParseError(start, 'Unterminated string literal');
}
