import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GossipCodecError, lzwCompress, lzwDecompress } from '../../src/gossip/wire/index.ts';

// LZW against Go's compress/lzw (LSB, 8-bit literals), the compressor memberlist uses. The vectors below
// were produced by Go's own writer (lzw.NewWriter(&buf, lzw.LSB, 8)) over the same inputs: our output must
// be identical byte for byte, table resets at 4095 codes included.

/** xorshift32 bytes modulo `mod`, the same generator the Go program used. */
function xorshift(n: number, seed: number, mod: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x % mod;
  }
  return out;
}

const GO_VECTORS: { name: string; input: () => Uint8Array; length: number; sha256: string; head: string }[] =
  [
    {
      name: 'empty',
      input: () => new Uint8Array(0),
      length: 3,
      sha256: 'ca175b7b97e4180ff4b1dc13271f897a7d711d6da53ddd112d60bf4ac100e23e',
      head: '000302',
    },
    {
      name: 'one byte',
      input: () => Buffer.from('a'),
      length: 4,
      sha256: '569cf6d3bc94f1dc8ac8efcb969118c82589ec9ab3abfb7de7dedf62647887ab',
      head: '00c30404',
    },
    {
      name: 'a repeat that hits the code being defined',
      input: () => Buffer.from('abababababababababab'),
      length: 12,
      sha256: 'e092a67b497c14a2b2c524e610dd102033f1e4f5a839f49f7ed0fe637d1c0417',
      head: '00c388114870a0c182050302',
    },
    {
      name: 'text',
      input: () => Buffer.from('TOBEORNOTTOBEORTOBEORNOT#'),
      length: 22,
      sha256: '9da8d4e38d6a4d1d42c03d4553fd06a5d828bb285b6f7ad840b29b86d2bc974d',
      head: '00a93c1152e48914274fa80824687061c18309470404',
    },
    {
      name: '100k bytes of 4 symbols',
      input: () => xorshift(100_000, 1, 4),
      length: 29878,
      sha256: '7fd8cad461d36be767f8ebb10b10d9ec9c5c96f8ae27a321298462b3796a90f4',
      head: '0003081c100080000105070c3828100080810114224c2860',
    },
    {
      name: '50k random bytes (expands, many resets)',
      input: () => xorshift(50_000, 7, 256),
      length: 68402,
      sha256: '2a219f14988f7c7d7fe7ec356c48751406aa12b69cf08c699b8f559759db334c',
      head: '00cf1d1852e41f255d575e29e8470e95bf2235da69e3b102',
    },
    {
      name: '300k bytes of 16 symbols',
      input: () => xorshift(300_000, 99, 16),
      length: 187753,
      sha256: 'f578fd01039a06341674df5e47b74757fd9d9e1a02bffa186c1c97e5212dd542',
      head: '000b2438c0e0818301021a3858b0a00080000d1e147090d0',
    },
    {
      name: '200k zeros',
      input: () => new Uint8Array(200_000),
      length: 761,
      sha256: '415ea43247235c744cb8cc4832ec81d6aa1093d9b07918aef718ca9c28f62f93',
      head: '0001081c48b0a0c18308132a5cc8b0a1c38710234a9c48b1',
    },
  ];

/**
 * Codes packed as an LZW writer without Go's leading Clear would pack them (older Go releases): every code
 * widens the table as the reader expects, and at 12 bits the reader stops defining codes.
 */
function packCodes(codes: number[]): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let count = 0;
  let width = 9;
  let hi = 257;
  let overflow = 512;
  for (const code of codes) {
    bits |= code << count;
    count += width;
    while (count >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      count -= 8;
    }
    if (code === 256) {
      width = 9;
      hi = 257;
      overflow = 512;
      continue;
    }
    hi++;
    if (hi >= overflow) {
      if (width === 12) hi--;
      else {
        width++;
        overflow <<= 1;
      }
    }
  }
  if (count > 0) out.push(bits & 0xff);
  return Uint8Array.from(out);
}

function rejects(reason: string, fn: () => unknown): void {
  assert.throws(fn, (error) => error instanceof GossipCodecError && error.reason === reason);
}

describe('LZW', () => {
  for (const vector of GO_VECTORS) {
    test(`matches Go's writer: ${vector.name}`, () => {
      const input = vector.input();
      const compressed = lzwCompress(input);
      assert.equal(compressed.length, vector.length);
      assert.equal(Buffer.from(compressed.subarray(0, 24)).toString('hex'), vector.head);
      assert.equal(createHash('sha256').update(compressed).digest('hex'), vector.sha256);
      assert.deepEqual(Buffer.from(lzwDecompress(compressed, input.length)), Buffer.from(input));
    });
  }

  test('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20_000 }), fc.integer({ min: 1, max: 256 }), (raw, alphabet) => {
        const input = raw.map((b) => b % alphabet);
        assert.deepEqual(Buffer.from(lzwDecompress(lzwCompress(input), input.length)), Buffer.from(input));
      }),
      { numRuns: 60 },
    );
  });

  test('reads streams without a leading Clear, past the point where the table is full', () => {
    const literals = Array.from({ length: 6000 }, (_, i) => (i * 7) % 256);
    const stream = packCodes([...literals, 257]);
    assert.deepEqual([...lzwDecompress(stream, 10_000)], literals);
    // A Clear in the middle starts 9-bit codes again.
    const cleared = packCodes([...literals.slice(0, 4000), 256, 1, 2, 3, 257]);
    assert.deepEqual([...lzwDecompress(cleared, 10_000)], [...literals.slice(0, 4000), 1, 2, 3]);
  });

  test('ignores bytes after the End code, as Go does', () => {
    const compressed = lzwCompress(Buffer.from('hello'));
    const padded = Uint8Array.of(...compressed, 0xde, 0xad);
    assert.equal(Buffer.from(lzwDecompress(padded, 100)).toString(), 'hello');
  });

  test('a missing End code, an undefined code or too much output is an error', () => {
    const compressed = lzwCompress(Buffer.from('hello world hello world'));
    rejects('decompress', () => lzwDecompress(compressed.subarray(0, compressed.length - 2), 1000));
    rejects('decompress', () => lzwDecompress(new Uint8Array(0), 1000));
    rejects('decompress', () => lzwDecompress(packCodes([256, 65, 300, 257]), 1000));
    rejects('limit', () => lzwDecompress(lzwCompress(new Uint8Array(100_000)), 99_999));
    assert.equal(lzwDecompress(lzwCompress(new Uint8Array(100_000)), 100_000).length, 100_000);
  });

  test('random input only ever raises codec errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        try {
          lzwDecompress(bytes, 100_000);
        } catch (error) {
          assert.ok(error instanceof GossipCodecError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
