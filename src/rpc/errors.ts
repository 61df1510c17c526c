// Every failure a caller of the RPC layer can see is one of these, so callers can branch on the type
// (retry on a connection error, surface a remote error's text) instead of parsing messages.

export class RpcError extends Error {
  override name = 'RpcError';
}

/** No response arrived within the call's timeout. The request may still have run on the server. */
export class RpcTimeoutError extends RpcError {
  override name = 'RpcTimeoutError';
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`rpc ${method} timed out after ${timeoutMs} ms`);
  }
}

/** The peer could not be reached, or the connection was lost or closed before the response arrived. */
export class RpcConnectionError extends RpcError {
  override name = 'RpcConnectionError';
  constructor(
    readonly address: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`rpc ${address}: ${message}`, options);
  }
}

/** The handler on the server failed; the message is the server's text, unchanged, as Consul passes it on. */
export class RpcRemoteError extends RpcError {
  override name = 'RpcRemoteError';
  constructor(
    readonly method: string,
    message: string,
  ) {
    super(message);
  }
}

/** Why a connection was dropped for bad input; also the `reason` label of the error counter. */
export type Violation =
  | 'frame_too_large'
  | 'malformed'
  | 'unexpected'
  | 'truncated'
  | 'frame_timeout'
  | 'credit';

/** The peer broke the protocol; the connection is closed because its byte stream can no longer be trusted. */
export class RpcProtocolError extends RpcError {
  override name = 'RpcProtocolError';
  constructor(
    readonly reason: Violation,
    message: string,
  ) {
    super(message);
  }
}

/** A message this side was asked to send cannot go on the wire (too large, too deeply nested, unencodable). */
export class RpcEncodeError extends RpcError {
  override name = 'RpcEncodeError';
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether a call failed before it was written to a connection, so trying it elsewhere cannot repeat it. */
export function neverSent(err: unknown): boolean {
  return err instanceof RpcConnectionError && /: (cannot connect|unreachable)/.test(err.message);
}
