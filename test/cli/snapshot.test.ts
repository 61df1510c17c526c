import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { byteSize, formatPretty, tabwrite } from '../../src/cli/snapshot-stats.ts';
import { readArchive, writeArchive } from '../../src/state/snapshot-archive.ts';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api } from '../helpers/http.ts';
import { ok, runCli } from './run-cli.ts';

// `tribune snapshot save / restore / inspect`: against a real dev agent, offline on files, and against a
// recorder for what the client sends. Output, messages and exit codes as Consul's.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tribune-cli-snapshot-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The `Key  value` block at the top of the pretty output. */
function metaBlock(out: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of out.split('\n\n')[0]!.split('\n')) {
    const match = /^ (\S+) +(\S+)$/.exec(line);
    assert.ok(match, line);
    // Go's tabwriter: the widest label (" Version") plus six spaces of padding.
    assert.equal(line.indexOf(match[2]!), ' Version'.length + 6, line);
    fields[match[1]!] = match[2]!;
  }
  return fields;
}

describe('snapshot against the dev agent', () => {
  let agent: DevAgent;
  const cli = (args: string[]) => runCli(args, { addr: agent.httpAddr });
  const cliOk = (args: string[]) => ok(args, { addr: agent.httpAddr });

  before(async () => {
    agent = await startDevAgent();
  });
  after(() => agent?.stop());

  test('save, change, restore brings the saved state back; inspect shows the saved index', async () => {
    await cliOk(['kv', 'put', 'app/config', 'old']);
    await cliOk(['kv', 'put', 'app/doomed', 'x']);
    const file = join(dir, 'backup.snap');
    const saved = await cliOk(['snapshot', 'save', file]);
    const match = /^Saved and verified snapshot to index (\d+)\n$/.exec(saved);
    assert.ok(match, saved);
    const index = Number(match[1]);
    assert.ok(index > 0);
    // Only the verified file remains, readable by its owner alone.
    assert.deepEqual(await readdir(dir), ['backup.snap']);
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    await cliOk(['kv', 'put', 'app/config', 'new']);
    await cliOk(['kv', 'delete', 'app/doomed']);
    await cliOk(['kv', 'put', 'app/later', 'y']);
    assert.equal(await cliOk(['kv', 'get', 'app/config']), 'new\n');

    assert.equal(await cliOk(['snapshot', 'restore', file]), 'Restored snapshot\n');
    assert.equal(await cliOk(['kv', 'get', 'app/config']), 'old\n');
    assert.equal(await cliOk(['kv', 'get', 'app/doomed']), 'x\n');
    assert.equal((await cli(['kv', 'get', 'app/later'])).code, 1);

    // Inspect needs no agent.
    const inspected = await ok(['snapshot', 'inspect', file], { addr: '127.0.0.1:1' });
    const meta = metaBlock(inspected);
    assert.equal(meta.Index, String(index));
    assert.equal(meta.Version, '1');
    const { meta: archiveMeta } = await readArchive(await readFile(file));
    assert.equal(meta.ID, archiveMeta.ID);
    assert.equal(meta.Size, String(archiveMeta.Size));
    assert.match(inspected, /\n KVS +2 +\d+B\n/);
    assert.match(inspected, /\n Register +\d+ +/);

    const json = JSON.parse(
      await ok(['snapshot', 'inspect', '-format=json', '-kvdetails', '-kvdepth=1', file]),
    );
    assert.equal(json.Meta.Index, index);
    assert.deepEqual(
      json.StatsKV.map((s: { Name: string; Count: number }) => [s.Name, s.Count]),
      [['app', 2]],
    );
  });

  test('-append-filename adds version, dc, node and status before the extension', async () => {
    const out = await cliOk([
      'snapshot',
      'save',
      '-append-filename=status,node,dc,version',
      join(dir, 'named.snap'),
    ]);
    assert.match(out, /^Saved and verified snapshot to index \d+\n$/);
    const self = (await api(agent.httpAddr, 'GET', '/v1/agent/self')).json<{
      Config: { Version: string; Datacenter: string; NodeName: string };
    }>();
    const { Version, Datacenter, NodeName } = self.Config;
    const files = await readdir(dir);
    assert.ok(files.includes(`named-${Version}-${Datacenter}-${NodeName}-leader.snap`), files.join());
  });

  test('restore refuses a damaged archive with the server error, exit 1', async () => {
    const file = join(dir, 'garbage.snap');
    await writeFile(file, 'not a snapshot');
    const result = await cli(['snapshot', 'restore', file]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^Error restoring snapshot: Unexpected response code: 400 \(snapshot is not a gzip archive/,
    );
  });

  test('save into a missing directory fails before anything is written', async () => {
    const file = join(dir, 'no-such-dir', 'x.snap');
    const result = await cli(['snapshot', 'save', file]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `Error writing unverified snapshot file: open ${file}.unverified: no such file or directory\n`,
    );
  });
});

describe('snapshot inspect on files', () => {
  let archive: Buffer;
  let state: Uint8Array;

  before(async () => {
    // A state document as Tribune's state.bin holds it: one node with a service and a check, three keys.
    const { encodeValue } = await import('../../src/state/codec.ts');
    const kv = (Key: string, value: string) => ({
      Key,
      Flags: 0,
      Value: Buffer.from(value),
      LockIndex: 0,
      Session: '',
      CreateIndex: 5,
      ModifyIndex: 5,
    });
    state = encodeValue({
      version: 1,
      index: 42,
      nodes: [
        { ID: 'n1', Node: 'web-1', Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} },
      ],
      services: [{ Node: 'web-1', ID: 'web', Service: 'web', Port: 80 }],
      checks: [{ Node: 'web-1', CheckID: 'serfHealth', Status: 'passing' }],
      kvs: [kv('vault/core/a', 'x'.repeat(300)), kv('vault/core/b', 'y'), kv('other', 'z')],
      tombstones: [{ Key: 'gone', Index: 3 }],
      sessions: [],
      indexes: [
        ['kvs', 5],
        ['nodes', 2],
        ['services', 3],
        ['checks', 4],
      ],
      lockDelays: [],
    });
    archive = await writeArchive({ ID: '1-42-1700000000000', Index: 42, Term: 1 }, state);
  });

  const inspect = async (args: string[], bytes: Uint8Array = archive, name = 'fixture.snap') => {
    const file = join(dir, name);
    await writeFile(file, bytes);
    return runCli(['snapshot', 'inspect', ...args, file]);
  };

  test('pretty output: metadata, then record types by size', async () => {
    const result = await inspect([]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 6), [
      ' ID           1-42-1700000000000',
      ` Size         ${state.length}`,
      ' Index        42',
      ' Term         1',
      ' Version      1',
      '',
    ]);
    const types = lines.slice(8, -3).map((line) => line.trim().split(/ +/));
    assert.deepEqual(
      types.map(([name, count]) => [name, count]),
      [
        ['KVS', '3'],
        ['Register', '3'],
        ['Index', '4'],
        ['Tombstone', '1'],
      ],
    );
    assert.match(lines[6]!, /^ Type {6,}Count {6}Size$/);
    assert.match(lines.at(-2)!, /^ Total {6,}\d+(\.\d)?K?B$/);
    assert.equal(lines.at(-1), '');
  });

  test('-kvdetails (or -detailed) breaks KV down by prefix; -kvfilter narrows it', async () => {
    for (const flag of ['-kvdetails', '-detailed']) {
      const result = await inspect([flag]);
      assert.equal(result.code, 0, result.stderr);
      const kvTable = result.stdout.split('\n\n')[2]!.split('\n');
      assert.match(kvTable[0]!, /^ Key Name {6,}Count {6}Size$/);
      assert.deepEqual(
        kvTable.slice(2, -3).map((line) => line.trim().split(/ +/).slice(0, 2)),
        [
          ['vault/core', '2'],
          ['other', '1'],
        ],
      );
    }
    const filtered = await inspect(['-kvdetails', '-kvdepth=3', '-kvfilter=vault/']);
    const kvTable = filtered.stdout.split('\n\n')[2]!.split('\n');
    assert.deepEqual(
      kvTable.slice(2, -3).map((line) => line.trim().split(/ +/).slice(0, 2)),
      [
        ['vault/core/a', '1'],
        ['vault/core/b', '1'],
      ],
    );
  });

  test("-format=json prints Consul's structure, three-space indented", async () => {
    const result = await inspect(['-format=json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^\{\n {3}"Meta": \{\n {6}"ID": "1-42-1700000000000",\n/);
    const json = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(json), ['Meta', 'Stats', 'StatsKV', 'TotalSize', 'TotalSizeKV']);
    assert.deepEqual(json.Meta, {
      ID: '1-42-1700000000000',
      Size: state.length,
      Index: 42,
      Term: 1,
      Version: 1,
    });
    assert.equal(json.StatsKV, null);
    assert.equal(
      json.TotalSize,
      json.Stats.reduce((sum: number, s: { Sum: number }) => sum + s.Sum, 0),
    );
    const bad = await inspect(['-format=xml']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error outputting enhanced snapshot data: Unknown format: xml\n');
  });

  test('a state.bin beside its meta.json is read directly', async () => {
    const unpacked = join(dir, 'unpacked');
    await mkdir(unpacked, { recursive: true });
    const { meta } = await readArchive(archive);
    await writeFile(join(unpacked, 'state.bin'), state);
    await writeFile(join(unpacked, 'meta.json'), JSON.stringify(meta));
    const result = await runCli(['snapshot', 'inspect', join(unpacked, 'state.bin')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(metaBlock(result.stdout).Index, '42');
  });

  test('a corrupted archive fails with the reason, exit 1', async () => {
    // A flipped bit inside state.bin: the archive unpacks, the checksum does not match.
    const tarBytes = gunzipSync(archive);
    const at = tarBytes.indexOf(Buffer.from(state));
    assert.ok(at > 0);
    tarBytes[at + 10]! ^= 0x01;
    const tampered = await inspect([], gzipSync(tarBytes), 'tampered.snap');
    assert.equal(tampered.code, 1);
    assert.equal(tampered.stdout, '');
    assert.equal(tampered.stderr, 'Error reading snapshot: snapshot checksum mismatch for state.bin\n');

    // Cut short: not even valid gzip.
    const truncated = await inspect([], archive.subarray(0, archive.length - 20), 'truncated.snap');
    assert.equal(truncated.code, 1);
    assert.match(truncated.stderr, /^Error reading snapshot: snapshot is not a gzip archive: /);

    const missing = await runCli(['snapshot', 'inspect', join(dir, 'nope.snap')]);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      `Error opening snapshot file: open ${join(dir, 'nope.snap')}: no such file or directory\n`,
    );
  });

  test('a valid archive around something that is not Tribune state fails to extract', async () => {
    const foreign = await writeArchive({ ID: 'x', Index: 1, Term: 1 }, Buffer.from([0xc1]));
    const result = await inspect([], foreign, 'foreign.snap');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error extracting snapshot data: state\.bin is not valid msgpack/);
  });
});

describe('snapshot usage', () => {
  test('the group lists its subcommands', async () => {
    const result = await runCli(['snapshot']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Usage: tribune snapshot <subcommand> \[options\] \[args\]\n/);
    assert.match(
      result.stderr,
      /\nSubcommands:\n {4}inspect {4}Displays information about a Consul snapshot file\n {4}restore {4}Restores snapshot of Consul server state\n {4}save {7}Saves snapshot of Consul server state\n$/,
    );
    assert.equal((await runCli(['snapshot', '--help'])).code, 0);
  });

  test('FILE is required, and only one', async () => {
    for (const sub of ['save', 'restore', 'inspect']) {
      const missing = await runCli(['snapshot', sub], { addr: '127.0.0.1:1' });
      assert.equal(missing.code, 1, sub);
      assert.equal(missing.stderr, 'Missing FILE argument\n', sub);
      const extra = await runCli(['snapshot', sub, 'a', 'b'], { addr: '127.0.0.1:1' });
      assert.equal(extra.code, 1, sub);
      assert.equal(extra.stderr, 'Too many arguments (expected 1, got 2)\n', sub);
    }
    const flag = await runCli(['snapshot', 'inspect', '-kvdepth=x', 'f']);
    assert.equal(flag.code, 1);
    assert.match(
      flag.stderr,
      /^invalid value "x" for flag -kvdepth: parse error\n\nUsage: tribune snapshot inspect /,
    );
  });

  test('inspect takes no HTTP flags; save and restore do', async () => {
    const inspect = await runCli(['snapshot', 'inspect', '-h']);
    assert.doesNotMatch(inspect.stdout, /HTTP API Options/);
    assert.match(inspect.stdout, /\n {2}-kvdetails\n/);
    assert.match(inspect.stdout, /\n {2}-format=<string>\n/);
    const save = await runCli(['snapshot', 'save', '-h']);
    assert.match(save.stdout, /\n {2}-stale\n/);
    assert.match(save.stdout, /\n {2}-append-filename=<string>\n/);
  });
});

describe('snapshot save against a recorder', () => {
  // Stands in for an agent to show what save sends and how it treats a bad answer.
  let server: Server;
  let addr: string;
  let requests: IncomingMessage[] = [];
  let body: Buffer = Buffer.alloc(0);

  before(async () => {
    server = createServer((req, res) => {
      requests.push(req);
      res.writeHead(200, { 'Content-Type': 'application/x-gzip', 'X-Consul-Index': '77' });
      res.end(body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  test('-stale asks any server; the index printed is X-Consul-Index', async () => {
    body = await writeArchive({ ID: '1-77-1', Index: 77, Term: 1 }, Buffer.from([0x80]));
    requests = [];
    const file = join(dir, 'stale.snap');
    assert.equal(
      await ok(['snapshot', 'save', '-stale', file], { addr }),
      'Saved and verified snapshot to index 77\n',
    );
    const url = new URL(requests[0]!.url!, 'http://x');
    assert.equal(requests[0]!.method, 'GET');
    assert.equal(url.pathname, '/v1/snapshot');
    assert.ok(url.searchParams.has('stale'));
    assert.deepEqual(await readFile(file), body);
  });

  test('an answer that does not verify is not kept, and an existing file is left alone', async () => {
    const file = join(dir, 'kept.snap');
    await writeFile(file, 'previous backup');
    const good = await writeArchive({ ID: '1-77-1', Index: 77, Term: 1 }, Buffer.from([0x80]));
    const tarBytes = gunzipSync(good);
    tarBytes[tarBytes.indexOf(Buffer.from('"Index":77')) + 9] = 0x38;
    body = gzipSync(tarBytes);
    const result = await runCli(['snapshot', 'save', file], { addr });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'Error verifying snapshot file: snapshot checksum mismatch for meta.json\n');
    assert.equal(await readFile(file, 'utf8'), 'previous backup');
    assert.equal((await readdir(dir)).includes('kept.snap.unverified'), false);
  });
});

describe('inspect formatting', () => {
  test('byte sizes as Consul prints them, halves rounded to even as Go does', () => {
    assert.deepEqual(
      [0, 1, 12, 1023, 1024, 1075, 1280, 1331, 1792, 12595, 1048576, 5 * 1024 ** 3].map(byteSize),
      ['0', '1B', '12B', '1023B', '1KB', '1KB', '1.2KB', '1.3KB', '1.8KB', '12.3KB', '1MB', '5GB'],
    );
  });

  test('tabwriter: columns per block of lines, padded to the widest cell plus padding, at least minwidth', () => {
    assert.equal(
      tabwrite(' a\tb\n long-cell\tc\n\n x\ty\tz', { minWidth: 8, padding: 6 }),
      [' a              b', ' long-cell      c', '', ' x      y       z'].join('\n'),
    );
  });

  test("the pretty layout matches Consul's for the same numbers", () => {
    const out = formatPretty(
      { ID: '2-12426-1604593650375', Size: 17228, Index: 12426, Term: 2, Version: 1 },
      {
        types: [
          { Name: 'KVS', Count: 27, Sum: 12595 },
          { Name: 'CoordinateBatchUpdate', Count: 1, Sum: 166 },
        ],
        totalSize: 12761,
        kv: [{ Name: 'team/service/settings', Count: 3, Sum: 1843 }],
        totalSizeKV: 1843,
      },
    );
    assert.equal(
      out,
      [
        ' ID           2-12426-1604593650375',
        ' Size         17228',
        ' Index        12426',
        ' Term         2',
        ' Version      1',
        '',
        ' Type                       Count      Size',
        ' ----                       ----       ----',
        ' KVS                        27         12.3KB',
        ' CoordinateBatchUpdate      1          166B',
        ' ----                       ----       ----',
        ' Total                                 12.5KB',
        '',
        ' Key Name                   Count      Size',
        ' ----                       ----       ----',
        ' team/service/settings      3          1.8KB',
        ' ----                       ----       ----',
        ' Total                                 1.8KB',
      ].join('\n'),
    );
  });
});
