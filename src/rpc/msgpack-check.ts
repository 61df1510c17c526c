import { MSGPACK_SHAPES, typeByte } from '../util/msgpack-shapes.ts';
import { RpcProtocolError } from './errors.ts';

// @msgpack/msgpack preallocates `new Array(n)` for every array header before reading its items, so a few
// kilobytes of nested headers each claiming 65,535 items exhaust the heap and kill the process. This walk
// runs first and builds nothing: it checks that every length fits in the bytes that are there, that the
// nesting is bounded and that exactly one value fills the buffer. After it passes, each container's claimed
// size is backed by at least as many bytes, so decoding allocates in proportion to the frame.

/** Throws RpcProtocolError unless `bytes` is exactly one well-formed msgpack value nested at most maxDepth deep. */
export function checkMsgpack(bytes: Uint8Array, maxDepth: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const malformed = (problem: string) => new RpcProtocolError('malformed', `malformed msgpack: ${problem}`);
  /** Items still to read in each open container, innermost last. */
  const open: number[] = [];
  let left = 1;
  let pos = 0;
  for (;;) {
    if (left === 0) {
      if (open.length === 0) break;
      left = open.pop()!;
      continue;
    }
    left--;
    if (pos >= bytes.length) throw malformed('truncated value');
    const type = bytes[pos++]!;
    const announced = typeByte(type, MSGPACK_SHAPES);
    let skip = announced.fixed ? announced.skip : 0;
    let items = announced.fixed ? announced.items : 0;
    if (!announced.fixed) {
      const { shape } = announced;
      if (!shape) throw malformed(`invalid type byte 0x${type.toString(16)}`);
      skip = shape.fixed;
      if (shape.lengthBytes) {
        if (pos + shape.lengthBytes > bytes.length) throw malformed('truncated length');
        const length =
          shape.lengthBytes === 1
            ? view.getUint8(pos)
            : shape.lengthBytes === 2
              ? view.getUint16(pos)
              : view.getUint32(pos);
        pos += shape.lengthBytes;
        if (shape.items) items = length * shape.items;
        else skip += length;
      }
    }
    if (skip > bytes.length - pos) throw malformed('truncated value');
    pos += skip;
    if (items > 0) {
      if (items > bytes.length - pos)
        throw malformed(`container claims ${items} items in ${bytes.length - pos} bytes`);
      if (open.length >= maxDepth) throw malformed(`nested deeper than ${maxDepth}`);
      open.push(left);
      left = items;
    }
  }
  if (pos !== bytes.length) throw malformed(`${bytes.length - pos} bytes after the value`);
}
