// Server RPC (port 8300): length-prefixed msgpack frames over TCP or TLS, many calls per connection.
export { type CallOptions, RpcClient, type RpcClientOptions } from './client.ts';
export {
  RpcConnectionError,
  RpcEncodeError,
  RpcError,
  RpcProtocolError,
  RpcRemoteError,
  RpcTimeoutError,
  type Violation,
} from './errors.ts';
export { DEFAULT_FRAME_LIMITS, DEFAULT_RPC_PORT, type FrameLimits } from './limits.ts';
export { RpcPool } from './pool.ts';
export { DEFAULT_SERVER_LIMITS, RpcServer, type RpcServerOptions, type ServerLimits } from './server.ts';
export { type Handler, RATE_LIMIT_ERROR, type RequestContext, type StreamHandler } from './session.ts';
export {
  parseAddress,
  type TlsTransportOptions,
  type Transport,
  tcpTransport,
  tlsTransport,
} from './transport.ts';
