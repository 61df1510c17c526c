import { GossipCodecError } from './errors.ts';
import { toText } from './fields.ts';
import { decodeValue, GoMsgpackWriter } from './go-msgpack.ts';
import { META_MAX_BYTES } from './limits.ts';

// serf keeps a member's tags in memberlist's node Meta: one magic byte 0xFF, then a msgpack map of string to
// string. Meta without the magic byte comes from serf protocol < 3, where the whole of it was the role.

const TAG_MAGIC = 0xff;
const MAX_TAG_BYTES = META_MAX_BYTES;

/** Encodes tags as serf does; throws GossipCodecError('encode') when they exceed memberlist's 512 bytes. */
export function encodeSerfTags(tags: Readonly<Record<string, string>>): Uint8Array {
  const w = new GoMsgpackWriter();
  w.byte(TAG_MAGIC);
  // Go writes map entries in random order; sorted keys make our Meta stable across restarts.
  const names = Object.keys(tags).sort();
  w.mapHeader(names.length);
  for (const name of names) w.string(name).string(tags[name]!);
  if (w.length > META_MAX_BYTES) {
    throw new GossipCodecError(
      'encode',
      `tags encode to ${w.length} bytes, over memberlist's ${META_MAX_BYTES}`,
    );
  }
  return w.bytes();
}

/** Decodes a member's Meta into its tags, as serf's decodeTags. */
export function decodeSerfTags(meta: Uint8Array): Record<string, string> {
  if (meta.length > META_MAX_BYTES) {
    throw new GossipCodecError(
      'limit',
      `node meta of ${meta.length} bytes is over the ${META_MAX_BYTES}-byte limit`,
    );
  }
  if (meta.length === 0 || meta[0] !== TAG_MAGIC) return { role: toText(meta, 'role tag', MAX_TAG_BYTES) };
  const value = decodeValue(meta.subarray(1));
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new GossipCodecError('malformed', 'serf tags are not a msgpack map');
  }
  const tags: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) tags[name] = toText(raw, `tag ${name}`, MAX_TAG_BYTES);
  return tags;
}
