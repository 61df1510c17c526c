import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CHUNK_COST, ChunkInbox, Credit } from '../../src/rpc/stream.ts';

// Stream flow control with the two ends wired directly: whatever the chunk sizes and however slowly the
// receiver consumes, the payload arrives intact and in order and the receiver never queues past its window.

async function transfer(pieces: Uint8Array[], window: number, chunkBytes: number, pauses: number[]) {
  const credit = new Credit();
  let queued = 0;
  let maxQueued = 0;
  const inbox = new ChunkInbox(window, (bytes) => credit.grant(bytes));
  const sending = (async () => {
    for (const piece of pieces) {
      for (let offset = 0; offset < piece.length; ) {
        const size = await credit.take(Math.min(chunkBytes, piece.length - offset));
        assert.equal(inbox.push(piece.subarray(offset, offset + size)), true, 'sender overran its credit');
        queued += size + CHUNK_COST;
        maxQueued = Math.max(maxQueued, queued);
        offset += size;
      }
    }
    inbox.end();
  })();
  const received: number[] = [];
  let n = 0;
  for await (const chunk of inbox) {
    received.push(...chunk);
    queued -= chunk.length + CHUNK_COST;
    const pause = pauses[n++ % Math.max(1, pauses.length)] ?? 0;
    for (let i = 0; i < pause; i++) await new Promise(setImmediate);
  }
  await sending;
  return { received, maxQueued };
}

test('the payload arrives whole, in order, never queued beyond the window', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 12 }),
      fc.integer({ min: 2 * CHUNK_COST, max: 8192 }),
      fc.integer({ min: 1, max: 2000 }),
      fc.array(fc.nat({ max: 3 }), { maxLength: 5 }),
      async (pieces, window, chunkBytes, pauses) => {
        const { received, maxQueued } = await transfer(pieces, window, chunkBytes, pauses);
        assert.deepEqual(
          received,
          pieces.flatMap((piece) => [...piece]),
        );
        assert.ok(maxQueued <= window, `queued ${maxQueued} > window ${window}`);
      },
    ),
    { numRuns: 200 },
  );
});

test('a chunk beyond the credit is refused', () => {
  const inbox = new ChunkInbox(1000, () => {});
  assert.equal(inbox.push(new Uint8Array(1000 - CHUNK_COST)), true);
  assert.equal(inbox.push(new Uint8Array(0)), false);
});

test('an abandoned stream makes the reader throw; a failed credit stops the sender', async () => {
  const inbox = new ChunkInbox(1000, () => {});
  inbox.push(Uint8Array.of(1));
  inbox.end(new Error('sender gave up'));
  // The chunk queued before the sender gave up is not delivered: the payload is incomplete anyway.
  const seen: Uint8Array[] = [];
  await assert.rejects(async () => {
    for await (const chunk of inbox) seen.push(chunk);
  }, /sender gave up/);
  assert.equal(seen.length, 0);

  const credit = new Credit();
  const waiting = credit.take(10);
  credit.fail(new Error('answered'));
  await assert.rejects(waiting, /answered/);
});
