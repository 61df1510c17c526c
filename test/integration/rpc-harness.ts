import net from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { RpcClient, type RpcClientOptions } from '../../src/rpc/client.ts';
import { decodeEnvelope, type Envelope } from '../../src/rpc/envelope.ts';
import { FrameDecoder } from '../../src/rpc/frame.ts';
import { RpcServer, type RpcServerOptions } from '../../src/rpc/server.ts';
import { parseAddress } from '../../src/rpc/transport.ts';

// Shared by the rpc-*.test.ts integration files: real servers and clients on 127.x.y.z, and raw sockets
// for speaking (and mangling) the wire format by hand.

export const silent = pino({ level: 'silent' });

export interface TestServer {
  server: RpcServer;
  registry: Registry;
  address: string;
  client(options?: RpcClientOptions): RpcClient;
}

/** Starts a server with an echo handler on a free port of `host`; clients made here close after the test. */
export async function startServer(
  host: string,
  options: Partial<RpcServerOptions> = {},
): Promise<TestServer> {
  const registry = new Registry();
  const server = new RpcServer({ host, port: 0, logger: silent, registry, ...options });
  server.handle('Test.Echo', (body) => body);
  const address = await server.listen();
  return {
    server,
    registry,
    address,
    client: (clientOptions) => new RpcClient(address, { logger: silent, ...clientOptions }),
  };
}

/** A counter's value, summed over series whose labels include `labels`. */
export async function counter(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))
    .reduce((sum, value) => sum + value.value, 0);
}

/** A server that accepts connections and never reads from them, as a peer behind a black hole. */
export async function blackHole(host: string) {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    socket.pause();
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    server,
    address: `${host}:${port}`,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A plain socket to a server, recording decoded frames it receives and whether it has been closed. */
export interface RawPeer {
  socket: net.Socket;
  received: Envelope[];
  /** Resolves when the server closes the socket. */
  closed: Promise<void>;
  /** Resolves with the next frame the server sends. */
  next(): Promise<Envelope>;
}

export async function rawPeer(address: string): Promise<RawPeer> {
  const { host, port } = parseAddress(address);
  const socket = net.connect({ host, port });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new FrameDecoder(1 << 24);
  const received: Envelope[] = [];
  const waiters: ((envelope: Envelope) => void)[] = [];
  socket.on('data', (chunk) => {
    for (const body of decoder.push(chunk)) {
      const envelope = decodeEnvelope(body);
      const waiter = waiters.shift();
      if (waiter) waiter(envelope);
      else received.push(envelope);
    }
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const next = () => {
    const queued = received.shift();
    return queued ? Promise.resolve(queued) : new Promise<Envelope>((resolve) => waiters.push(resolve));
  };
  return { socket, received, closed, next };
}

/** Fails unless `promise` settles within ms. */
export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
