import net, { type Server, type Socket } from 'node:net';
import tls from 'node:tls';

// How sockets are made, kept apart from what runs over them so TLS is a matter of configuration: the same
// server and client run over plain TCP or TLS, and TLS options (certificates, CA, verification, client
// certificates) pass through to node:tls untouched.

export interface Transport {
  /** Opens a socket ready to carry data (for TLS, after the handshake), or rejects. */
  dial(host: string, port: number, timeoutMs: number): Promise<Socket>;
  /** A server that calls onSocket with each connection ready to carry data. */
  createServer(onSocket: (socket: Socket) => void): Server;
}

export const tcpTransport: Transport = {
  dial: (host, port, timeoutMs) => ready(net.connect({ host, port }), 'connect', timeoutMs),
  createServer: (onSocket) => net.createServer(onSocket),
};

export interface TlsTransportOptions {
  /** Passed to tls.createServer (key, cert, ca, requestCert, rejectUnauthorized, ...). */
  server?: tls.TlsOptions;
  /** Passed to tls.connect (ca, key, cert, servername, checkServerIdentity, ...). */
  client?: tls.ConnectionOptions;
}

export function tlsTransport(options: TlsTransportOptions): Transport {
  return {
    dial: (host, port, timeoutMs) =>
      ready(tls.connect({ ...options.client, host, port }), 'secureConnect', timeoutMs),
    createServer: (onSocket) => tls.createServer(options.server ?? {}, onSocket),
  };
}

function ready(socket: Socket, event: 'connect' | 'secureConnect', timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', fail);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** Splits "host:port" or "[v6]:port". */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid address ${JSON.stringify(address)}: expected host:port`);
  }
  return { host: match[1] ?? match[2]!, port };
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
