import * as ui from './ui.ts';

// Log lines of long-running commands (watch, lock) on stderr, laid out as Consul's CLI prints them through
// hclog: `<time> [ERROR] watch: Watch errored: type=key error="..." retry=5s`. Debug lines are not shown.

type Fields = Record<string, unknown>;

export function stderrLog(name: string) {
  const line = (level: string, fields: Fields, message: string) => {
    const pairs = Object.entries(fields).map(([key, value]) => `${key}=${formatValue(value)}`);
    const text = pairs.length > 0 ? `${message}: ${pairs.join(' ')}` : message;
    ui.error(`${new Date().toISOString()} [${level}] ${name}: ${text}`);
  };
  return {
    error: (fields: Fields, message: string) => line('ERROR', fields, message),
    warn: (fields: Fields, message: string) => line('WARN', fields, message),
    debug: () => undefined,
  };
}

/** hclog quotes values with spaces or quotes in them. */
function formatValue(value: unknown): string {
  const text = String(value);
  return /[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text;
}
