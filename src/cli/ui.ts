// Where command output goes. Like Consul's CLI: results on stdout, errors and notices on stderr, one line per
// call. Values may be raw bytes (KV data), which are written unchanged.

export function info(text: string | Uint8Array = ''): void {
  process.stdout.write(typeof text === 'string' ? `${text}\n` : Buffer.concat([text, Buffer.from('\n')]));
}

export function error(text: string): void {
  process.stderr.write(`${text}\n`);
}
