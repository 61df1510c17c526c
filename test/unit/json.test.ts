import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseJson, stringifyJson } from '../../src/util/json.ts';

// Go's uint64s through JSON: bigints are written as bare exact integers and read back as bigints, and
// everything without a bigint is exactly what JSON.stringify writes.

test('values without bigints are written exactly as JSON.stringify writes them', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (value, indent) => {
      assert.equal(stringifyJson(value, indent), JSON.stringify(value, undefined, indent));
    }),
  );
});

test('bigints anywhere in a value are written as exact integers and parse back to the same value', () => {
  const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  // JSON.parse makes a `__proto__` key an own property; an object literal would set the prototype.
  const key = fc.string().filter((k) => k !== '__proto__');
  const safe = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
  const withBigints = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      uint64.map((n) => (Number.isSafeInteger(Number(n)) ? Number(n) : n)),
      safe,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    ),
  })).value;
  fc.assert(
    fc.property(withBigints, (value) => {
      assert.deepEqual(parseJson(stringifyJson(value)), value);
    }),
  );
  assert.equal(stringifyJson({ Flags: 2n ** 64n - 1n }), '{"Flags":18446744073709551615}');
});
