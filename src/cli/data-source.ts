// Consul's convention for data arguments: `@path` reads a file, a lone `-` reads stdin, anything else is the
// data itself. Used by `kv put`, `kv import` and `-filter`.
import { readFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';

export async function loadDataSource(arg: string): Promise<Buffer> {
  if (arg.startsWith('@')) {
    try {
      return await readFile(arg.slice(1));
    } catch (err) {
      throw new Error(`Failed to read file: ${describeFsError(err, arg.slice(1))}`);
    }
  }
  if (arg === '-') {
    try {
      return await buffer(process.stdin);
    } catch (err) {
      throw new Error(`Failed to read stdin: ${(err as Error).message}`);
    }
  }
  return Buffer.from(arg, 'utf8');
}

const fsReasons: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
};

/** Go's wording for a failed file read (`open x: no such file or directory`), which Consul's messages carry. */
export function describeFsError(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const reason = fsReasons[code];
  if (reason === undefined) return (err as Error).message;
  return code === 'EISDIR' ? `read ${path}: ${reason}` : `open ${path}: ${reason}`;
}
