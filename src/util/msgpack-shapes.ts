// msgpack's non-fixed types by their first byte: what follows the type byte. The pre-decode walks of server
// RPC frames (rpc/msgpack-check.ts) and gossip messages (gossip/wire/msgpack-scan.ts) both size values by
// this table; @msgpack/msgpack itself preallocates from headers, which is what those walks guard against.

export interface MsgpackShape {
  /** Bytes after the type byte (and after the length field, if any) that are not counted by it. */
  fixed: number;
  /** Width of the big-endian length field that follows, if any. */
  lengthBytes?: 1 | 2 | 4;
  /** The length counts items (1 per array entry, 2 per map pair) rather than bytes. */
  items?: 1 | 2;
  /** An extension type: application-defined, which some protocols never use. */
  ext?: true;
}

export const MSGPACK_SHAPES: ReadonlyMap<number, MsgpackShape> = new Map<number, MsgpackShape>([
  [0xc0, { fixed: 0 }], // nil
  [0xc2, { fixed: 0 }], // false
  [0xc3, { fixed: 0 }], // true
  [0xc4, { fixed: 0, lengthBytes: 1 }], // bin 8
  [0xc5, { fixed: 0, lengthBytes: 2 }], // bin 16
  [0xc6, { fixed: 0, lengthBytes: 4 }], // bin 32
  [0xc7, { fixed: 1, lengthBytes: 1, ext: true }], // ext 8 (type byte + data)
  [0xc8, { fixed: 1, lengthBytes: 2, ext: true }], // ext 16
  [0xc9, { fixed: 1, lengthBytes: 4, ext: true }], // ext 32
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
  [0xd4, { fixed: 2, ext: true }], // fixext 1
  [0xd5, { fixed: 3, ext: true }], // fixext 2
  [0xd6, { fixed: 5, ext: true }], // fixext 4
  [0xd7, { fixed: 9, ext: true }], // fixext 8
  [0xd8, { fixed: 17, ext: true }], // fixext 16
  [0xd9, { fixed: 0, lengthBytes: 1 }], // str 8
  [0xda, { fixed: 0, lengthBytes: 2 }], // str 16 / raw 16
  [0xdb, { fixed: 0, lengthBytes: 4 }], // str 32 / raw 32
  [0xdc, { fixed: 0, lengthBytes: 2, items: 1 }], // array 16
  [0xdd, { fixed: 0, lengthBytes: 4, items: 1 }], // array 32
  [0xde, { fixed: 0, lengthBytes: 2, items: 2 }], // map 16
  [0xdf, { fixed: 0, lengthBytes: 4, items: 2 }], // map 32
]);

/** What a value's first byte announces: a fixed-size item (fixint, fixmap, fixarray, fixstr) or a shape. */
export type TypeByte =
  | { fixed: true; items: number; skip: number }
  | { fixed: false; shape: MsgpackShape | undefined };

/** Classifies a type byte; `shape` is undefined for a byte `shapes` does not allow. */
export function typeByte(type: number, shapes: ReadonlyMap<number, MsgpackShape>): TypeByte {
  if (type <= 0x7f || type >= 0xe0) return { fixed: true, items: 0, skip: 0 }; // positive or negative fixint
  if (type <= 0x8f) return { fixed: true, items: (type & 0x0f) * 2, skip: 0 }; // fixmap
  if (type <= 0x9f) return { fixed: true, items: type & 0x0f, skip: 0 }; // fixarray
  if (type <= 0xbf) return { fixed: true, items: 0, skip: type & 0x1f }; // fixstr
  return { fixed: false, shape: shapes.get(type) };
}
