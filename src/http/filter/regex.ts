// Go RE2 regular expressions, as Consul's `matches` operator takes them.
//
// They are parsed here and run on a Thompson NFA rather than translated to a JS RegExp: RegExp backtracks,
// so a filter such as `(a+)+$` could stall the event loop on a long value, while RE2 syntax (no
// backreferences, no lookaround) always fits an NFA, which matches in time linear in the input. Only a
// yes/no answer is needed, so captures, laziness and the `U` flag change nothing.

export class RegexError extends Error {}
export type Regex = (input: string) => boolean;

type Test = (cp: number) => boolean;
type Assertion = 'beginText' | 'endText' | 'beginLine' | 'endLine' | 'wordBoundary' | 'noWordBoundary';
type Node =
  | { t: 'char'; test: Test }
  | { t: 'assert'; kind: Assertion }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'repeat'; min: number; max: number; sub: Node }; // max -1: unbounded

interface Flags {
  foldCase: boolean; // i
  multiLine: boolean; // m
  dotNL: boolean; // s
}

const MAX_REPEAT = 1000; // Go's limit for {n,m}
const MAX_NESTING = 200; // Go allows 1000; lower keeps the recursive parser far from the JS stack limit
const MAX_PROGRAM = 5000; // instructions: bounds the work per input character

const range =
  (lo: number, hi: number): Test =>
  (cp) =>
    cp >= lo && cp <= hi;
const anyOf =
  (tests: Test[]): Test =>
  (cp) =>
    tests.some((test) => test(cp));
const not =
  (test: Test): Test =>
  (cp) =>
    !test(cp);

// Go's Perl classes are ASCII-only, unlike JS's \s.
const DIGIT = range(0x30, 0x39);
const WORD = anyOf([DIGIT, range(0x41, 0x5a), range(0x61, 0x7a), (cp) => cp === 0x5f]);
const SPACE: Test = (cp) => cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d;
const PERL = new Map<string, Test>([
  ['d', DIGIT],
  ['D', not(DIGIT)],
  ['s', SPACE],
  ['S', not(SPACE)],
  ['w', WORD],
  ['W', not(WORD)],
]);
const POSIX = new Map<string, Test>([
  ['alnum', anyOf([DIGIT, range(0x41, 0x5a), range(0x61, 0x7a)])],
  ['alpha', anyOf([range(0x41, 0x5a), range(0x61, 0x7a)])],
  ['ascii', range(0, 0x7f)],
  ['blank', (cp) => cp === 0x20 || cp === 0x09],
  ['cntrl', (cp) => cp <= 0x1f || cp === 0x7f],
  ['digit', DIGIT],
  ['graph', range(0x21, 0x7e)],
  ['lower', range(0x61, 0x7a)],
  ['print', range(0x20, 0x7e)],
  ['punct', anyOf([range(0x21, 0x2f), range(0x3a, 0x40), range(0x5b, 0x60), range(0x7b, 0x7e)])],
  ['space', (cp) => cp === 0x20 || (cp >= 0x09 && cp <= 0x0d)],
  ['upper', range(0x41, 0x5a)],
  ['word', WORD],
  ['xdigit', anyOf([DIGIT, range(0x41, 0x46), range(0x61, 0x66)])],
]);
const ASSERTIONS = new Map<string, Assertion>([
  ['A', 'beginText'],
  ['z', 'endText'],
  ['b', 'wordBoundary'],
  ['B', 'noWordBoundary'],
]);
const SIMPLE_ESCAPES = new Map([
  ['a', 7],
  ['f', 12],
  ['n', 10],
  ['r', 13],
  ['t', 9],
  ['v', 11],
]);

const width = (cp: number) => (cp > 0xffff ? 2 : 1);
const isOctal = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';

function singleCodePoint(s: string): number | undefined {
  const cp = s.codePointAt(0);
  return cp !== undefined && s.length === width(cp) ? cp : undefined;
}

// Case folding approximated with JS case mapping: close to Go's fold orbits (k, K and the Kelvin sign
// fold together) without shipping Unicode tables.
function caseVariants(cp: number): number[] {
  const s = String.fromCodePoint(cp);
  const upper = singleCodePoint(s.toUpperCase()) ?? cp;
  const lower = singleCodePoint(s.toLowerCase()) ?? cp;
  const folded = singleCodePoint(String.fromCodePoint(upper).toLowerCase()) ?? upper;
  return [cp, upper, lower, folded];
}
const canonical = (cp: number) => caseVariants(cp)[3]!;

function unicodeClass(name: string): Test | undefined {
  if (name === 'Any') return () => true;
  if (!/^[A-Za-z_]+$/.test(name)) return undefined;
  // Go names general categories by their short names (L, Lu) and scripts by their long names (Greek).
  const property = /^[A-Z][a-z]?$/.test(name) ? `General_Category=${name}` : `Script=${name}`;
  try {
    // A one-character test, so RegExp backtracking cannot come into play.
    const re = new RegExp(`^\\p{${property}}$`, 'u');
    return (cp) => re.test(String.fromCodePoint(cp));
  } catch {
    return undefined;
  }
}

class RegexParser {
  private i = 0;
  private depth = 0;
  private flags: Flags = { foldCase: false, multiLine: false, dotNL: false };
  private readonly names = new Set<string>();

  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.parseAlternation();
    // Alternation stops early only at a `)` that no group opened.
    if (this.i < this.src.length) throw this.error('unexpected )', this.src);
    return node;
  }

  error(code: string, text: string): RegexError {
    const shown = text.length > 32 ? `${text.slice(0, 32)}…` : text;
    return new RegexError(`error parsing regexp: ${code}: \`${shown}\``);
  }

  private parseAlternation(): Node {
    const items = [this.parseConcatenation()];
    while (this.src[this.i] === '|') {
      this.i++;
      items.push(this.parseConcatenation());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private parseConcatenation(): Node {
    const items: Node[] = [];
    let lastRepeat = -1; // where the repetition operator that ended `items` starts, if one did
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const start = this.i;
      const repeat = this.parseRepeat();
      if (!repeat) {
        lastRepeat = -1;
        this.parseAtom(items);
        continue;
      }
      if (lastRepeat >= 0)
        throw this.error('invalid nested repetition operator', this.src.slice(lastRepeat, this.i));
      const sub = items.pop();
      if (!sub) throw this.error('missing argument to repetition operator', this.src.slice(start, this.i));
      items.push({ t: 'repeat', ...repeat, sub });
      lastRepeat = start;
    }
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private parseRepeat(): { min: number; max: number } | undefined {
    const c = this.src[this.i];
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      [min, max] = c === '*' ? [0, -1] : c === '+' ? [1, -1] : [0, 1];
      this.i++;
    } else if (c === '{') {
      const braces = /\{(\d+)(,(\d*))?\}/y;
      braces.lastIndex = this.i;
      const m = braces.exec(this.src);
      if (!m) return undefined; // Go reads a `{` that starts no repeat count as a literal
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
      if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
        throw this.error('invalid repeat count', m[0]);
      }
      this.i = braces.lastIndex;
    } else {
      return undefined;
    }
    if (this.src[this.i] === '?') this.i++; // lazy: same language
    return { min, max };
  }

  private parseAtom(items: Node[]): void {
    switch (this.src[this.i]) {
      case '(':
        this.parseGroup(items);
        return;
      case '[':
        items.push({ t: 'char', test: this.parseClass() });
        return;
      case '.':
        this.i++;
        items.push({ t: 'char', test: this.flags.dotNL ? () => true : (cp) => cp !== 0x0a });
        return;
      case '^':
        this.i++;
        items.push({ t: 'assert', kind: this.flags.multiLine ? 'beginLine' : 'beginText' });
        return;
      case '$':
        this.i++;
        items.push({ t: 'assert', kind: this.flags.multiLine ? 'endLine' : 'endText' });
        return;
      case '\\':
        this.parseBackslash(items);
        return;
      default: {
        const cp = this.src.codePointAt(this.i)!;
        this.i += width(cp);
        items.push(this.literal(cp));
      }
    }
  }

  private literal(cp: number): Node {
    if (!this.flags.foldCase) return { t: 'char', test: (c) => c === cp };
    const folded = canonical(cp);
    return { t: 'char', test: (c) => c === cp || canonical(c) === folded };
  }

  private fold(test: Test): Test {
    return this.flags.foldCase ? (cp) => caseVariants(cp).some(test) : test;
  }

  private parseGroup(items: Node[]): void {
    const start = this.i;
    const saved = this.flags;
    const src = this.src;
    if (
      src.startsWith('(?P<', start) ||
      (src.startsWith('(?<', start) && !/[=!]/.test(src[start + 3] ?? ''))
    ) {
      const nameStart = src.indexOf('<', start) + 1;
      const end = src.indexOf('>', nameStart);
      const text = end < 0 ? src.slice(start) : src.slice(start, end + 1);
      const name = src.slice(nameStart, end);
      if (end < 0 || !/^\w+$/.test(name)) throw this.error('invalid named capture', text);
      if (this.names.has(name)) throw this.error('duplicate capture group name', text);
      this.names.add(name);
      this.i = end + 1;
    } else if (src.startsWith('(?', start)) {
      const flags = this.parseFlags();
      // `(?i)` sets flags until the end of the enclosing group; `(?i:re)` only inside its own.
      this.flags = flags;
      if (src[this.i - 1] === ')') return;
    } else {
      this.i++;
    }
    if (++this.depth > MAX_NESTING) throw this.error('expression nests too deeply', src);
    const node = this.parseAlternation();
    if (src[this.i] !== ')') throw this.error('missing closing )', src);
    this.i++;
    this.depth--;
    this.flags = saved;
    items.push(node);
  }

  // After `(?`: flags such as `i`, `-s` or `im-sU`, ended by `)` or `:`.
  private parseFlags(): Flags {
    const start = this.i;
    const flags = { ...this.flags };
    let negated = false;
    let sawFlag = false;
    for (this.i += 2; this.i < this.src.length; this.i++) {
      const c = this.src[this.i];
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        if (c === 'i') flags.foldCase = !negated;
        if (c === 'm') flags.multiLine = !negated;
        if (c === 's') flags.dotNL = !negated;
        sawFlag = true;
      } else if (c === '-' && !negated) {
        negated = true;
        sawFlag = false;
      } else if ((c === ':' || c === ')') && (sawFlag || !negated)) {
        this.i++;
        return flags;
      } else {
        break;
      }
    }
    throw this.error('invalid or unsupported Perl syntax', this.src.slice(start, this.i + 1));
  }

  private parseBackslash(items: Node[]): void {
    const c = this.src[this.i + 1] ?? '';
    const assertion = ASSERTIONS.get(c);
    if (assertion) {
      this.i += 2;
      items.push({ t: 'assert', kind: assertion });
    } else if (c === 'Q') {
      // \Q...\E: literal text, up to \E or the end
      const end = this.src.indexOf('\\E', this.i + 2);
      const text = this.src.slice(this.i + 2, end < 0 ? undefined : end);
      this.i = end < 0 ? this.src.length : end + 2;
      for (const ch of text) items.push(this.literal(ch.codePointAt(0)!));
    } else if (PERL.has(c)) {
      this.i += 2;
      items.push({ t: 'char', test: this.fold(PERL.get(c)!) });
    } else if (c === 'p' || c === 'P') {
      items.push({ t: 'char', test: this.fold(this.parseUnicodeClass()) });
    } else {
      items.push(this.literal(this.parseEscape()));
    }
  }

  // A single-character escape; `\C`, backreferences and unknown letters are errors, as in Go.
  private parseEscape(): number {
    const start = this.i;
    const c = this.src.codePointAt(this.i + 1);
    if (c === undefined) throw this.error('trailing backslash at end of expression', '');
    this.i += 1 + width(c);
    const bad = () => this.error('invalid escape sequence', this.src.slice(start, this.i));
    const letter = String.fromCodePoint(c);
    if (c < 0x80 && !/[0-9A-Za-z]/.test(letter)) return c; // escaped punctuation
    if (isOctal(letter) && (letter === '0' || isOctal(this.src[this.i]))) {
      // \0, \01, \012, \12...: octal; a lone \1 to \7 would be a backreference
      let value = c - 0x30;
      for (let k = 0; k < 2 && isOctal(this.src[this.i]); k++)
        value = value * 8 + this.src.charCodeAt(this.i++) - 0x30;
      return value;
    }
    if (letter === 'x') {
      const braced = this.src[this.i] === '{';
      const end = braced ? this.src.indexOf('}', this.i) : this.i + 2;
      const digits = braced ? (end < 0 ? '' : this.src.slice(this.i + 1, end)) : this.src.slice(this.i, end);
      const valid = braced ? /^[0-9a-fA-F]+$/ : /^[0-9a-fA-F]{2}$/;
      if (valid.test(digits)) {
        const value = Number.parseInt(digits, 16);
        this.i = braced ? end + 1 : end;
        if (value <= 0x10ffff) return value;
      }
      throw bad();
    }
    const simple = SIMPLE_ESCAPES.get(letter);
    if (simple === undefined) throw bad();
    return simple;
  }

  // \pL, \p{Greek}, \PL, \p{^Greek}
  private parseUnicodeClass(): Test {
    const start = this.i;
    let negated = this.src[this.i + 1] === 'P';
    this.i += 2;
    let name: string;
    if (this.src[this.i] === '{') {
      const end = this.src.indexOf('}', this.i);
      if (end < 0) throw this.error('invalid character class range', this.src.slice(start));
      name = this.src.slice(this.i + 1, end);
      this.i = end + 1;
    } else {
      const cp = this.src.codePointAt(this.i);
      if (cp === undefined) throw this.error('invalid character class range', this.src.slice(start));
      name = String.fromCodePoint(cp);
      this.i += width(cp);
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const test = unicodeClass(name);
    if (!test) throw this.error('invalid character class range', this.src.slice(start, this.i));
    return negated ? not(test) : test;
  }

  private parseClass(): Test {
    const start = this.i;
    this.i++;
    const negated = this.src[this.i] === '^';
    if (negated) this.i++;
    const tests: Test[] = [];
    // A `]` right after the opening bracket is a literal.
    for (let first = true; this.i < this.src.length && (first || this.src[this.i] !== ']'); first = false) {
      const named = this.parsePosixClass();
      const next = this.src[this.i + 1] ?? '';
      if (named) {
        tests.push(named);
      } else if (this.src[this.i] === '\\' && (next === 'p' || next === 'P')) {
        tests.push(this.parseUnicodeClass());
      } else if (this.src[this.i] === '\\' && PERL.has(next)) {
        tests.push(PERL.get(next)!);
        this.i += 2;
      } else {
        const rangeStart = this.i;
        const lo = this.parseClassChar(start);
        if (this.src[this.i] === '-' && this.i + 1 < this.src.length && this.src[this.i + 1] !== ']') {
          this.i++;
          const hi = this.parseClassChar(start);
          if (hi < lo) throw this.error('invalid character class range', this.src.slice(rangeStart, this.i));
          tests.push(range(lo, hi));
        } else {
          tests.push((cp) => cp === lo);
        }
      }
    }
    if (this.i >= this.src.length) throw this.error('missing closing ]', this.src.slice(start));
    this.i++;
    const test = this.fold(anyOf(tests));
    return negated ? not(test) : test;
  }

  private parseClassChar(classStart: number): number {
    if (this.i >= this.src.length) throw this.error('missing closing ]', this.src.slice(classStart));
    if (this.src[this.i] === '\\') return this.parseEscape();
    const cp = this.src.codePointAt(this.i)!;
    this.i += width(cp);
    return cp;
  }

  // [:alpha:] or [:^alpha:] inside a class; a `[:` without a later `:]` is just a `[`.
  private parsePosixClass(): Test | undefined {
    if (!this.src.startsWith('[:', this.i)) return undefined;
    const end = this.src.indexOf(':]', this.i + 2);
    if (end < 0) return undefined;
    const text = this.src.slice(this.i, end + 2);
    const negated = text[2] === '^';
    const test = POSIX.get(text.slice(negated ? 3 : 2, -2));
    if (!test) throw this.error('invalid character class range', text);
    this.i = end + 2;
    return negated ? not(test) : test;
  }
}

interface Instruction {
  op: 'char' | 'split' | 'jump' | 'assert' | 'match';
  x: number; // jump target; first branch of a split
  y: number; // second branch of a split
  test?: Test;
  kind?: Assertion;
}

function compile(root: Node, tooLarge: () => RegexError): Instruction[] {
  const program: Instruction[] = [];
  const emit = (op: Instruction['op'], extra: Partial<Instruction> = {}): Instruction => {
    if (program.length >= MAX_PROGRAM) throw tooLarge();
    const instruction = { op, x: 0, y: 0, ...extra };
    program.push(instruction);
    return instruction;
  };
  const generate = (node: Node): void => {
    switch (node.t) {
      case 'char':
        emit('char', { test: node.test });
        return;
      case 'assert':
        emit('assert', { kind: node.kind });
        return;
      case 'cat':
        node.items.forEach(generate);
        return;
      case 'alt': {
        const exits: Instruction[] = [];
        for (const item of node.items.slice(0, -1)) {
          const split = emit('split', { x: program.length + 1 });
          generate(item);
          exits.push(emit('jump'));
          split.y = program.length;
        }
        generate(node.items.at(-1)!);
        for (const exit of exits) exit.x = program.length;
        return;
      }
      case 'repeat': {
        for (let k = 0; k < node.min; k++) generate(node.sub);
        if (node.max < 0) {
          const loop = program.length;
          const split = emit('split', { x: loop + 1 });
          generate(node.sub);
          emit('jump', { x: loop });
          split.y = program.length;
          return;
        }
        // x{2,4} is xx(x?)(x?): every optional copy may skip to the end.
        const splits: Instruction[] = [];
        for (let k = node.min; k < node.max; k++) {
          splits.push(emit('split', { x: program.length + 1 }));
          generate(node.sub);
        }
        for (const split of splits) split.y = program.length;
      }
    }
  };
  generate(root);
  emit('match');
  return program;
}

const isWordAt = (s: string, k: number) => k >= 0 && k < s.length && WORD(s.charCodeAt(k));

function holds(kind: Assertion, s: string, pos: number): boolean {
  switch (kind) {
    case 'beginText':
      return pos === 0;
    case 'endText':
      return pos === s.length;
    case 'beginLine':
      return pos === 0 || s.charCodeAt(pos - 1) === 0x0a;
    case 'endLine':
      return pos === s.length || s.charCodeAt(pos) === 0x0a;
    case 'wordBoundary':
      return isWordAt(s, pos - 1) !== isWordAt(s, pos);
    case 'noWordBoundary':
      return isWordAt(s, pos - 1) === isWordAt(s, pos);
  }
}

// Simulates all NFA threads in lock step (Thompson); a thread starts at every position, since Go's
// MatchString searches anywhere in the input.
function matcher(program: Instruction[]): Regex {
  const size = program.length;
  let current = new Int32Array(size);
  let next = new Int32Array(size);
  const stack = new Int32Array(size);
  const seen = new Uint32Array(size); // generation in which an instruction was last added to a list
  let generation = 0;

  // Adds the `char` instructions reachable from `start` without consuming input to `list`; returns the new
  // length of the list, or -1 when a match is reachable.
  const addThreads = (
    input: string,
    pos: number,
    start: number,
    list: Int32Array,
    length: number,
  ): number => {
    let sp = 0;
    const visit = (pc: number) => {
      if (seen[pc] !== generation) {
        seen[pc] = generation;
        stack[sp++] = pc;
      }
    };
    visit(start);
    while (sp > 0) {
      const pc = stack[--sp]!;
      const instruction = program[pc]!;
      switch (instruction.op) {
        case 'match':
          return -1;
        case 'char':
          list[length++] = pc;
          break;
        case 'jump':
          visit(instruction.x);
          break;
        case 'split':
          visit(instruction.y);
          visit(instruction.x);
          break;
        case 'assert':
          if (holds(instruction.kind!, input, pos)) visit(pc + 1);
      }
    }
    return length;
  };

  return (input) => {
    seen.fill(0);
    generation = 1;
    let length = addThreads(input, 0, 0, current, 0);
    for (let pos = 0; length >= 0; ) {
      if (pos >= input.length) return false;
      const cp = input.codePointAt(pos)!;
      const after = pos + width(cp);
      generation++;
      let nextLength = 0;
      for (let k = 0; k < length && nextLength >= 0; k++) {
        const pc = current[k]!;
        if (program[pc]!.test!(cp)) nextLength = addThreads(input, after, pc + 1, next, nextLength);
      }
      if (nextLength >= 0) nextLength = addThreads(input, after, 0, next, nextLength);
      [current, next] = [next, current];
      length = nextLength;
      pos = after;
    }
    return true;
  };
}

/** Compiles a Go (RE2) regular expression; throws RegexError with Go's wording when it is invalid. */
export function compileRegex(pattern: string): Regex {
  const parser = new RegexParser(pattern);
  return matcher(compile(parser.parse(), () => parser.error('expression too large', pattern)));
}
