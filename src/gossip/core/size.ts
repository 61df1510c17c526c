import type { GossipMessage } from '../messages.ts';

// How many bytes a message takes on the wire before compound/compress/CRC/encrypt: the type byte plus a
// msgpack map keyed by the Go field names, as go-msgpack writes it (strings and byte slices as raw strings,
// unsigned integers in their shortest form). Exact for the fields the core sets; a driver may inject the
// codec's own measure instead.

const rawLength = (length: number) => (length < 32 ? 1 : length < 256 ? 2 : length < 65_536 ? 3 : 5) + length;
const textLength = (text: string) => rawLength(utf8Length(text));
const uintLength = (value: number) => (value < 128 ? 1 : value < 256 ? 2 : value < 65_536 ? 3 : 5);
const mapHeader = (fields: number) => (fields < 16 ? 1 : 3);
/** A key: fixstr header plus the ASCII name. */
const key = (name: string) => 1 + name.length;

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A ping's and an indirect ping's omitempty fields naming where the ack goes. */
function sourceFields(b: { SourceAddr: Uint8Array; SourcePort: number; SourceNode: string }) {
  let size = 0;
  let fields = 0;
  if (b.SourceAddr.length > 0) {
    size += key('SourceAddr') + rawLength(b.SourceAddr.length);
    fields++;
  }
  if (b.SourcePort > 0) {
    size += key('SourcePort') + uintLength(b.SourcePort);
    fields++;
  }
  if (b.SourceNode !== '') {
    size += key('SourceNode') + textLength(b.SourceNode);
    fields++;
  }
  return { size, fields };
}

export function estimateSize(message: GossipMessage): number {
  switch (message.type) {
    case 'ping': {
      const b = message.body;
      const size = 1 + key('SeqNo') + uintLength(b.SeqNo) + key('Node') + textLength(b.Node);
      const fields = 2;
      // SourceAddr, SourcePort and SourceNode are omitempty.
      const source = sourceFields(b);
      return size + source.size + mapHeader(fields + source.fields);
    }
    case 'indirectPing': {
      const b = message.body;
      const size =
        1 +
        key('SeqNo') +
        uintLength(b.SeqNo) +
        key('Target') +
        rawLength(b.Target.length) +
        key('Port') +
        uintLength(b.Port) +
        key('Node') +
        textLength(b.Node) +
        key('Nack') +
        1;
      const fields = 5;
      const source = sourceFields(b);
      return size + source.size + mapHeader(fields + source.fields);
    }
    case 'ackResp':
      return (
        1 +
        mapHeader(2) +
        key('SeqNo') +
        uintLength(message.body.SeqNo) +
        key('Payload') +
        rawLength(message.body.Payload.length)
      );
    case 'nackResp':
      return 1 + mapHeader(1) + key('SeqNo') + uintLength(message.body.SeqNo);
    case 'suspect':
    case 'dead': {
      const b = message.body;
      return (
        1 +
        mapHeader(3) +
        key('Incarnation') +
        uintLength(b.Incarnation) +
        key('Node') +
        textLength(b.Node) +
        key('From') +
        textLength(b.From)
      );
    }
    case 'alive': {
      const b = message.body;
      return (
        1 +
        mapHeader(6) +
        key('Incarnation') +
        uintLength(b.Incarnation) +
        key('Node') +
        textLength(b.Node) +
        key('Addr') +
        rawLength(b.Addr.length) +
        key('Port') +
        uintLength(b.Port) +
        key('Meta') +
        rawLength(b.Meta.length) +
        key('Vsn') +
        rawLength(b.Vsn.length)
      );
    }
    case 'err':
      return 1 + mapHeader(1) + key('Error') + textLength(message.body.Error);
    case 'user':
      return 1 + message.body.length;
  }
}
