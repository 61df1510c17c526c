// Limits both ends of a connection apply to what they read. Large payloads (snapshots) travel as streams of
// small chunks, so a single frame never needs to be big and the frame limit can stay low.

export interface FrameLimits {
  /** Largest frame body accepted or sent, checked from the length prefix before any of the body is buffered. */
  maxFrameBytes: number;
  /** A frame must arrive whole within this long of its first byte, which defeats slow trickles. */
  frameTimeoutMs: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxFrameBytes: 4 * 1024 * 1024,
  frameTimeoutMs: 10_000,
};

/** Consul's server RPC port. */
export const DEFAULT_RPC_PORT = 8300;
