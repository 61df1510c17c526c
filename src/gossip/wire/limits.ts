// Bounds on what the codec accepts from the network, taken from memberlist where it has one, otherwise
// generous enough for any honest serf or Consul peer.

/** memberlist's MetaMaxSize: node metadata (serf's encoded tags) longer than this is refused on both sides. */
export const META_MAX_BYTES = 512;

/** Node names, event and query names: far above serf's 128-character validation, far below abuse. */
export const MAX_NAME_BYTES = 1024;

/**
 * A UDP datagram carries at most 65,507 bytes, and memberlist compresses a packet only when that makes it
 * smaller, so an honest compressed packet never opens into more than this.
 */
export const MAX_PACKET_PLAIN_BYTES = 64 * 1024;

/** memberlist's maxPushStateBytes: the longest encrypted stream frame and the longest user state. */
export const MAX_PUSH_STATE_BYTES = 20 * 1024 * 1024;

/** The most bytes one stream message may occupy once decrypted and decompressed. */
export const MAX_STREAM_BYTES = 2 * MAX_PUSH_STATE_BYTES;

/** Node states in one push/pull; each takes at least a few dozen bytes, so the byte limits bind first. */
export const MAX_PUSH_NODES = 1024 * 1024;

/** Nesting of msgpack containers: memberlist and serf structs go five deep at most. */
export const MAX_DEPTH = 16;

/** A compound message counts its parts in one byte and sizes each in two. */
export const MAX_COMPOUND_PARTS = 255;
export const MAX_COMPOUND_PART_BYTES = 0xffff;
