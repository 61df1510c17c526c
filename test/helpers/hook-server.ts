import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// An HTTP endpoint for watch handlers to call: it records each request and lets a test await the ones it
// expects as they arrive, without polling. Paths under /fail/ answer 500.

export interface HookRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export class HookServer {
  readonly requests: HookRequest[] = [];
  private waiters: { check: (requests: HookRequest[]) => boolean; resolve: () => void }[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HookServer> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const hooks = new HookServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '';
        res
          .writeHead(path.startsWith('/fail/') ? 500 : 200)
          .end(path.startsWith('/fail/') ? 'hook broke' : 'ok');
        hooks.record({
          method: req.method ?? '',
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
      });
    });
    return hooks;
  }

  /** Resolves once `check` holds for the requests so far, checking again as each one arrives. */
  async until(what: string, check: (requests: HookRequest[]) => boolean, timeoutMs = 30_000): Promise<void> {
    if (check(this.requests)) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ check, resolve });
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    }).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.server.close();
  }

  private record(request: HookRequest): void {
    this.requests.push(request);
    const ready = this.waiters.filter((w) => w.check(this.requests));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve();
  }
}
