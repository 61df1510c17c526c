import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  boolFlag,
  FlagError,
  formatFlagUsage,
  HelpRequested,
  intFlag,
  listFlag,
  mapFlag,
  parseFlags,
  parseGoInteger,
  stringFlag,
  uintFlag,
} from '../../src/cli/flags.ts';

const spec = {
  recurse: boolFlag('recurse', 'Recurse.'),
  separator: stringFlag('separator', 'Separator.', '/'),
  port: intFlag('port', 'Port.'),
  flags: uintFlag('flags', 'Flags.'),
  nodeMeta: listFlag('node-meta', 'Meta `key:value`.'),
  meta: mapFlag('meta', 'Meta.'),
};

describe('parseFlags', () => {
  const cases: { argv: string[]; flags?: Record<string, unknown>; args?: string[]; given?: string[] }[] = [
    {
      argv: [],
      flags: { recurse: false, separator: '/', port: 0, flags: 0n, nodeMeta: [], meta: {} },
      args: [],
    },
    { argv: ['-recurse', 'foo'], flags: { recurse: true }, args: ['foo'], given: ['recurse'] },
    { argv: ['--recurse', 'foo'], flags: { recurse: true }, args: ['foo'] },
    { argv: ['-recurse=false', 'foo'], flags: { recurse: false }, args: ['foo'], given: ['recurse'] },
    { argv: ['-recurse=T'], flags: { recurse: true } },
    { argv: ['-recurse=0'], flags: { recurse: false } },
    // A boolean flag never takes the next argument as its value.
    { argv: ['-recurse', 'false'], flags: { recurse: true }, args: ['false'] },
    { argv: ['-separator=:'], flags: { separator: ':' } },
    { argv: ['-separator', ':'], flags: { separator: ':' } },
    { argv: ['--separator=|', 'x'], flags: { separator: '|' }, args: ['x'] },
    { argv: ['--separator', '|'], flags: { separator: '|' } },
    { argv: ['-separator='], flags: { separator: '' } },
    // The next argument is the value even when it looks like a flag, as in Go.
    { argv: ['-separator', '-recurse'], flags: { separator: '-recurse', recurse: false }, args: [] },
    { argv: ['-separator=a=b'], flags: { separator: 'a=b' } },
    { argv: ['-port', '8500'], flags: { port: 8500 } },
    { argv: ['-port=-1'], flags: { port: -1 } },
    { argv: ['-port=0x10'], flags: { port: 16 } },
    { argv: ['-port=010'], flags: { port: 8 } },
    { argv: ['-port=1_000'], flags: { port: 1000 } },
    { argv: ['-flags=18446744073709551615'], flags: { flags: 18446744073709551615n } },
    { argv: ['-node-meta', 'a:1', '-node-meta=b:2'], flags: { nodeMeta: ['a:1', 'b:2'] } },
    { argv: ['-meta', 'a=1', '-meta', 'b=x=y', '-meta=a=3'], flags: { meta: { a: '3', b: 'x=y' } } },
    // Parsing stops at the first positional argument: later dashes are arguments.
    { argv: ['key', '-recurse'], flags: { recurse: false }, args: ['key', '-recurse'] },
    { argv: ['-recurse', '--', '-key'], flags: { recurse: true }, args: ['-key'] },
    { argv: ['--', '--'], args: ['--'] },
    // A lone dash is a positional argument (stdin for `kv put`).
    { argv: ['key', '-'], args: ['key', '-'] },
    { argv: ['-', 'x'], args: ['-', 'x'] },
  ];
  for (const { argv, flags, args, given } of cases) {
    test(JSON.stringify(argv), () => {
      const parsed = parseFlags(spec, argv);
      for (const [key, value] of Object.entries(flags ?? {})) {
        assert.deepEqual(parsed.flags[key as keyof typeof spec], value, key);
      }
      if (args) assert.deepEqual(parsed.args, args);
      if (given) assert.deepEqual([...parsed.given].sort(), [...given].sort());
    });
  }

  const errors: { argv: string[]; message: string }[] = [
    { argv: ['-x'], message: 'flag provided but not defined: -x' },
    { argv: ['--nope=1'], message: 'flag provided but not defined: -nope' },
    // Go flags are not short options: -rs is one unknown flag, not -r -s.
    { argv: ['-rs'], message: 'flag provided but not defined: -rs' },
    { argv: ['-separator'], message: 'flag needs an argument: -separator' },
    { argv: ['--port'], message: 'flag needs an argument: -port' },
    { argv: ['-recurse=yes'], message: 'invalid boolean value "yes" for -recurse: parse error' },
    { argv: ['-port', 'abc'], message: 'invalid value "abc" for flag -port: parse error' },
    {
      argv: ['-port=9223372036854775808'],
      message: 'invalid value "9223372036854775808" for flag -port: value out of range',
    },
    { argv: ['-flags=-1'], message: 'invalid value "-1" for flag -flags: parse error' },
    {
      argv: ['-flags=18446744073709551616'],
      message: 'invalid value "18446744073709551616" for flag -flags: value out of range',
    },
    {
      argv: ['-meta', 'novalue'],
      message: 'invalid value "novalue" for flag -meta: Missing "=" value in argument: novalue',
    },
    { argv: ['---recurse'], message: 'bad flag syntax: ---recurse' },
    { argv: ['-=x'], message: 'bad flag syntax: -=x' },
  ];
  for (const { argv, message } of errors) {
    test(`error: ${JSON.stringify(argv)}`, () => {
      assert.throws(
        () => parseFlags(spec, argv),
        (err: unknown) => {
          assert.ok(err instanceof FlagError);
          assert.equal(err.message, message);
          return true;
        },
      );
    });
  }

  for (const argv of [['-h'], ['-help'], ['--help'], ['-recurse', '-h']]) {
    test(`help: ${JSON.stringify(argv)}`, () => {
      assert.throws(() => parseFlags(spec, argv), HelpRequested);
    });
  }

  test('a command that defines -h gets it as a flag', () => {
    const parsed = parseFlags({ host: stringFlag('h', 'Host.') }, ['-h', 'example']);
    assert.equal(parsed.flags.host, 'example');
  });
});

describe('parseGoInteger', () => {
  const cases: [string, boolean, bigint | string][] = [
    ['0', true, 0n],
    ['+7', true, 7n],
    ['-0b101', true, -5n],
    ['0o17', false, 15n],
    ['0X1f', false, 31n],
    ['0_7', false, 7n],
    ['-9223372036854775808', true, -(2n ** 63n)],
    ['+7', false, 'parse error'],
    ['08', false, 'parse error'],
    ['0x', false, 'parse error'],
    ['1__0', false, 'parse error'],
    ['_1', false, 'parse error'],
    ['1_', false, 'parse error'],
    ['', true, 'parse error'],
    [' 1', true, 'parse error'],
    ['1.5', true, 'parse error'],
  ];
  for (const [text, signed, expected] of cases) {
    test(`${JSON.stringify(text)} ${signed ? 'int' : 'uint'}`, () => {
      if (typeof expected === 'bigint') assert.equal(parseGoInteger(text, signed), expected);
      else assert.throws(() => parseGoInteger(text, signed), { message: expected });
    });
  }
});

describe('formatFlagUsage', () => {
  test('lists flags by name with placeholders, wrapped help and non-zero defaults', () => {
    const text = formatFlagUsage([
      {
        title: 'Command Options',
        spec: { separator: spec.separator, recurse: spec.recurse, nodeMeta: spec.nodeMeta },
      },
      { title: 'Empty', spec: {} },
    ]);
    assert.equal(
      text,
      [
        'Command Options',
        '',
        '  -node-meta=<key:value>',
        '     Meta key:value.',
        '',
        '  -recurse',
        '     Recurse.',
        '',
        '  -separator=<string>',
        '     Separator. (default: /)',
      ].join('\n'),
    );
  });

  test('wraps long help at 72 columns', () => {
    const long = stringFlag('x', 'word '.repeat(30).trim());
    const lines = formatFlagUsage([{ title: 'T', spec: { long } }]).split('\n');
    assert.ok(lines.length > 4);
    for (const line of lines) assert.ok(line.length <= 72, line);
  });
});
