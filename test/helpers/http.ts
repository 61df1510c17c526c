// Small fetch wrappers for tests that talk to the agent's HTTP API directly (status codes and headers matter).

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

export async function api(
  agentAddr: string,
  method: string,
  path: string,
  body?: string | Uint8Array | object,
): Promise<ApiResponse> {
  const payload =
    body === undefined || typeof body === 'string' || body instanceof Uint8Array
      ? body
      : JSON.stringify(body);
  const response = await fetch(`http://${agentAddr}${path}`, {
    method,
    body: payload as BodyInit | undefined,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
}

/** Polls `check` until it returns a value other than undefined, failing after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads one sample from the agent's Prometheus metrics. */
export async function metric(agentAddr: string, name: string): Promise<number> {
  const { text } = await api(agentAddr, 'GET', '/v1/agent/metrics?format=prometheus');
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.split(' ').pop());
}
