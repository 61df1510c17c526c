import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

// Consul prints human-readable lines (`2024-05-01T10:00:00.000Z [INFO]  agent: message: key=value`); with
// -log-json it prints JSON. pino always produces JSON; this stream turns it into Consul's text form without
// pino-pretty's worker thread, which would cost start-up time.

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'ERROR',
};
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

export function createLogger(level: string, json: boolean, name = 'agent'): Logger {
  const options = { level, name, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  return json ? pino(options, process.stdout) : pino(options, textStream(process.stdout));
}

function textStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) out.write(`${formatLine(line)}\n`);
      }
      done();
    },
  });
}

function formatLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = `[${LEVEL_NAMES[record.level as number] ?? 'INFO'}]`.padEnd(7);
  const fields = Object.entries(record)
    .filter(([key]) => !OMIT.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const message =
    fields.length > 0 ? `${String(record.msg ?? '')}: ${fields.join(' ')}` : String(record.msg ?? '');
  return `${String(record.time)} ${level} ${String(record.name ?? 'agent')}: ${message}`;
}
