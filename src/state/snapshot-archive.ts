import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';

// Snapshots leave the server in Consul's archive layout: a gzipped tar holding meta.json (the Raft
// metadata), state.bin (the state machine's snapshot) and SHA256SUMS over both, so a damaged or altered
// file is refused before anything is restored.

export interface SnapshotMeta {
  Version: number;
  ID: string;
  Index: number;
  Term: number;
  Size: number;
}

export class SnapshotArchiveError extends Error {}

const MAX_ARCHIVE_ENTRIES = 8;

export async function writeArchive(
  meta: Omit<SnapshotMeta, 'Size' | 'Version'>,
  state: Uint8Array,
): Promise<Buffer> {
  const metaJson = Buffer.from(JSON.stringify({ Version: 1, ...meta, Size: state.length }));
  const sums = `${sha256(metaJson)}  meta.json\n${sha256(state)}  state.bin\n`;
  const pack = tar.pack();
  const files: [string, Uint8Array][] = [
    ['meta.json', metaJson],
    ['state.bin', state],
    ['SHA256SUMS', Buffer.from(sums)],
  ];
  for (const [name, content] of files)
    pack.entry({ name, size: content.length, mode: 0o600 }, Buffer.from(content));
  pack.finalize();
  return gzipSync(await buffer(pack));
}

export async function readArchive(archive: Uint8Array): Promise<{ meta: SnapshotMeta; state: Buffer }> {
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(archive);
  } catch (err) {
    throw new SnapshotArchiveError(`snapshot is not a gzip archive: ${(err as Error).message}`);
  }
  const files = await untar(tarBytes);
  const metaJson = files.get('meta.json');
  const state = files.get('state.bin');
  const sums = files.get('SHA256SUMS');
  if (!metaJson || !state || !sums)
    throw new SnapshotArchiveError('snapshot archive must hold meta.json, state.bin and SHA256SUMS');
  const expected = new Map(
    sums
      .toString()
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/).reverse() as [string, string]),
  );
  for (const [name, content] of [
    ['meta.json', metaJson],
    ['state.bin', state],
  ] as const) {
    if (expected.get(name) !== sha256(content))
      throw new SnapshotArchiveError(`snapshot checksum mismatch for ${name}`);
  }
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(metaJson.toString()) as SnapshotMeta;
  } catch {
    throw new SnapshotArchiveError('snapshot meta.json is not valid JSON');
  }
  return { meta, state };
}

function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      if (files.size >= MAX_ARCHIVE_ENTRIES) {
        extract.destroy(new SnapshotArchiveError('snapshot archive has too many entries'));
        return;
      }
      buffer(stream).then((content) => {
        files.set(header.name, content);
        next();
      }, reject);
    });
    extract.on('finish', () => resolve(files));
    extract.on('error', (err) =>
      reject(
        err instanceof SnapshotArchiveError
          ? err
          : new SnapshotArchiveError(`snapshot is not a valid tar archive: ${err.message}`),
      ),
    );
    extract.end(bytes);
  });
}

function sha256(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}
