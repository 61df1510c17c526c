import { GossipCodecError } from './errors.ts';
import { float64, StructReader, writeStruct } from './fields.ts';
import { decodeValue, GoMsgpackWriter } from './go-msgpack.ts';

// serf answers memberlist pings with its Vivaldi network coordinate in the ack's Payload:
// `[1 (ping version)][msgpack Coordinate{Vec, Error, Adjustment, Height}]`, all float64 seconds. A peer's
// coordinate lets serf (and Consul's `rtt`) estimate round-trip times to it.

export const SERF_PING_VERSION = 1;
/** serf's default coordinate dimensionality; serf ignores coordinates of any other. */
export const SERF_COORDINATE_DIMENSIONS = 8;

export interface SerfCoordinate {
  Vec: number[];
  Error: number;
  Adjustment: number;
  Height: number;
}

/** The coordinate serf starts from: the origin, with maximal error and minimal height. */
export function originCoordinate(): SerfCoordinate {
  return { Vec: new Array(SERF_COORDINATE_DIMENSIONS).fill(0), Error: 1.5, Adjustment: 0, Height: 10e-6 };
}

export function encodeSerfPingPayload(coordinate: SerfCoordinate): Uint8Array {
  const w = new GoMsgpackWriter();
  w.byte(SERF_PING_VERSION);
  writeStruct(w, 'Coordinate', {
    Vec: (w) => {
      w.arrayHeader(coordinate.Vec.length);
      for (const x of coordinate.Vec) w.float64(x);
    },
    Error: float64(coordinate.Error),
    Adjustment: float64(coordinate.Adjustment),
    Height: float64(coordinate.Height),
  });
  return w.bytes();
}

export function decodeSerfPingPayload(payload: Uint8Array): SerfCoordinate {
  if (payload.length === 0) throw new GossipCodecError('truncated', 'ping payload is empty');
  if (payload[0] !== SERF_PING_VERSION) {
    throw new GossipCodecError('unsupported', `serf ping payload version ${payload[0]}`);
  }
  const r = new StructReader('Coordinate', decodeValue(payload.subarray(1)));
  const float = (value: unknown, what: string) => {
    if (value === undefined || value === null) return 0;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new GossipCodecError('malformed', `Coordinate.${what} is not a finite number`);
    }
    return value;
  };
  const vec = r.array('Vec');
  if (vec.length > 64) throw new GossipCodecError('limit', `a ${vec.length}-dimensional coordinate`);
  return {
    Vec: vec.map((x, i) => float(x, `Vec[${i}]`)),
    Error: float(r.get('Error'), 'Error'),
    Adjustment: float(r.get('Adjustment'), 'Adjustment'),
    Height: float(r.get('Height'), 'Height'),
  };
}
