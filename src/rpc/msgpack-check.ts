import { RpcProtocolError } from './errors.ts';

// @msgpack/msgpack preallocates `new Array(n)` for every array header before reading its items, so a few
// kilobytes of nested headers each claiming 65,535 items exhaust the heap and kill the process. This walk
// runs first and builds nothing: it checks that every length fits in the bytes that are there, that the
// nesting is bounded and that exactly one value fills the buffer. After it passes, each container's claimed
// size is backed by at least as many bytes, so decoding allocates in proportion to the frame.

/** Extra bytes after the type byte: fixed sizes, or the width of a length field that follows. */
interface Shape {
  fixed: number;
  /** Width of the big-endian length field (1, 2 or 4 bytes), if any. */
  lengthBytes?: 1 | 2 | 4;
  /** The length counts items (array) or key/value pairs (map) rather than bytes. */
  items?: 1 | 2;
}

const SHAPES = new Map<number, Shape>([
  [0xc0, { fixed: 0 }], // nil
  [0xc2, { fixed: 0 }], // false
  [0xc3, { fixed: 0 }], // true
  [0xc4, { fixed: 0, lengthBytes: 1 }], // bin 8
  [0xc5, { fixed: 0, lengthBytes: 2 }], // bin 16
  [0xc6, { fixed: 0, lengthBytes: 4 }], // bin 32
  [0xc7, { fixed: 1, lengthBytes: 1 }], // ext 8 (type byte + data)
  [0xc8, { fixed: 1, lengthBytes: 2 }], // ext 16
  [0xc9, { fixed: 1, lengthBytes: 4 }], // ext 32
  [0xca, { fixed: 4 }], // float 32
  [0xcb, { fixed: 8 }], // float 64
  [0xcc, { fixed: 1 }], // uint 8
  [0xcd, { fixed: 2 }], // uint 16
  [0xce, { fixed: 4 }], // uint 32
  [0xcf, { fixed: 8 }], // uint 64
  [0xd0, { fixed: 1 }], // int 8
  [0xd1, { fixed: 2 }], // int 16
  [0xd2, { fixed: 4 }], // int 32
  [0xd3, { fixed: 8 }], // int 64
  [0xd4, { fixed: 2 }], // fixext 1
  [0xd5, { fixed: 3 }], // fixext 2
  [0xd6, { fixed: 5 }], // fixext 4
  [0xd7, { fixed: 9 }], // fixext 8
  [0xd8, { fixed: 17 }], // fixext 16
  [0xd9, { fixed: 0, lengthBytes: 1 }], // str 8
  [0xda, { fixed: 0, lengthBytes: 2 }], // str 16
  [0xdb, { fixed: 0, lengthBytes: 4 }], // str 32
  [0xdc, { fixed: 0, lengthBytes: 2, items: 1 }], // array 16
  [0xdd, { fixed: 0, lengthBytes: 4, items: 1 }], // array 32
  [0xde, { fixed: 0, lengthBytes: 2, items: 2 }], // map 16
  [0xdf, { fixed: 0, lengthBytes: 4, items: 2 }], // map 32
]);

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
    let skip = 0;
    let items = 0;
    if (type <= 0x7f || type >= 0xe0) {
      // positive or negative fixint
    } else if (type <= 0x8f) {
      items = (type & 0x0f) * 2;
    } else if (type <= 0x9f) {
      items = type & 0x0f;
    } else if (type <= 0xbf) {
      skip = type & 0x1f;
    } else {
      const shape = SHAPES.get(type);
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
