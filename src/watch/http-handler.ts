import http from 'node:http';
import https from 'node:https';
import { encodeGo } from './go-json.ts';
import { OutputTail } from './output-tail.ts';
import type { HttpHandlerConfig } from './parse.ts';
import type { WatchHandler, WatchLogger } from './plan.ts';

// Consul's HTTP watch handler: the result as a JSON body (json.Encoder's line) with the index in
// X-Consul-Index, the configured method and headers, within the timeout, optionally trusting any TLS
// certificate. A failed call or a non-2xx answer is logged with what the endpoint said; the watch goes on.

export function httpHandler(config: HttpHandlerConfig, log: WatchLogger): WatchHandler {
  return async (index, result, signal) => {
    const body = Buffer.from(`${encodeGo(result)}\n`);
    const headers: Record<string, string | string[]> = {
      'Content-Type': 'application/json',
      'X-Consul-Index': String(index),
      'Content-Length': String(body.length),
    };
    for (const [name, values] of Object.entries(config.header)) {
      const existing = headers[name];
      headers[name] = [...(existing === undefined ? [] : [existing].flat()), ...values];
    }
    try {
      const { status, statusText, output } = await send(config, headers, body, signal);
      if (status >= 200 && status <= 299) {
        log.debug({ watch: config.path, output }, 'http watch handler output');
      } else {
        log.error(
          { watch: config.path, status: `${status} ${statusText}`, output },
          'http watch handler failed with output',
        );
      }
    } catch (err) {
      if (signal.aborted) return;
      log.error({ watch: config.path, error: (err as Error).message }, 'Failed to invoke http watch handler');
    }
  };
}

function send(
  config: HttpHandlerConfig,
  headers: Record<string, string | string[]>,
  body: Buffer,
  stop: AbortSignal,
): Promise<{ status: number; statusText: string; output: string }> {
  const url = new URL(config.path);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: config.method,
        headers,
        signal: AbortSignal.any([stop, AbortSignal.timeout(config.timeoutMs)]),
        ...(url.protocol === 'https:' ? { rejectUnauthorized: !config.tlsSkipVerify } : {}),
      },
      (response) => {
        const output = new OutputTail();
        response.on('data', output.add);
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            output: output.text(),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
