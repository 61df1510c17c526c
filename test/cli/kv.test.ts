import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { ok, runCli } from './run-cli.ts';

// `tribune kv ...` against a real dev agent, asserting Consul's output and exit codes.

let agent: DevAgent;
let dir: string;
const kv = (args: string[], stdin?: string | Buffer) =>
  runCli(['kv', ...args], { addr: agent.httpAddr, stdin });
const kvOk = (args: string[], stdin?: string | Buffer) =>
  ok(['kv', ...args], { addr: agent.httpAddr, stdin });

/** The `-detailed` block as a map, checking it is laid out as Go's tabwriter lays it out. */
async function detailed(key: string): Promise<Record<string, string>> {
  const lines = (await kvOk(['get', '-detailed', key])).replace(/\n$/, '').split('\n');
  const fields: Record<string, string> = {};
  for (const line of lines) {
    const match = /^(\S+)( *)(.*)$/.exec(line)!;
    if (match[3] !== '') assert.equal(match[1]!.length + match[2]!.length, 'CreateIndex'.length + 6, line);
    fields[match[1]!] = match[3]!;
  }
  assert.deepEqual(Object.keys(fields), [
    'CreateIndex',
    'Flags',
    'Key',
    'LockIndex',
    'ModifyIndex',
    'Session',
    'Value',
  ]);
  return fields;
}

before(async () => {
  agent = await startDevAgent();
  dir = await mkdtemp(join(tmpdir(), 'tribune-cli-kv-'));
});

after(async () => {
  await agent?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kv put / get / delete', () => {
  test('round trip', async () => {
    assert.equal(await kvOk(['put', 'greeting', 'hello world']), 'Success! Data written to: greeting\n');
    assert.equal(await kvOk(['get', 'greeting']), 'hello world\n');
    // A leading slash is dropped for the user, as Consul does.
    assert.equal(await kvOk(['get', '/greeting']), 'hello world\n');
    assert.equal(await kvOk(['delete', 'greeting']), 'Success! Deleted key: greeting\n');
    const missing = await kv(['get', 'greeting']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error! No key exists at: greeting\n');
  });

  test('an empty value prints an empty line; -detailed shows metadata', async () => {
    await kvOk(['put', 'empty']);
    assert.equal(await kvOk(['get', 'empty']), '\n');
    const fields = await detailed('empty');
    assert.equal(fields.Key, 'empty');
    assert.equal(fields.Flags, '0');
    assert.equal(fields.Session, '-');
    assert.equal(fields.Value, '');
    assert.ok(Number(fields.ModifyIndex) >= Number(fields.CreateIndex));
  });

  test('-cas writes only at the given ModifyIndex', async () => {
    await kvOk(['put', 'cas', 'one']);
    const index = (await detailed('cas')).ModifyIndex!;
    assert.equal(
      await kvOk(['put', '-cas', `-modify-index=${index}`, 'cas', 'two']),
      'Success! Data written to: cas\n',
    );
    const stale = await kv(['put', '-cas', '-modify-index', index, 'cas', 'three']);
    assert.equal(stale.code, 1);
    assert.equal(stale.stdout, '');
    assert.equal(stale.stderr, 'Error! Did not write to cas: CAS failed\n');
    assert.equal(await kvOk(['get', 'cas']), 'two\n');

    // Index 0 means "only if absent".
    const exists = await kv(['put', '-cas', 'cas', 'four']);
    assert.equal(exists.code, 1);
    assert.equal(
      exists.stderr,
      'Error! Did not write to cas: CAS performed with index=0 and key already exists.\n',
    );
    assert.equal(
      await kvOk(['put', '-cas', '-modify-index=0', 'cas-new', 'x']),
      'Success! Data written to: cas-new\n',
    );
  });

  test('delete -cas', async () => {
    await kvOk(['put', 'del-cas', 'x']);
    const index = Number((await detailed('del-cas')).ModifyIndex);
    const wrong = await kv(['delete', '-cas', `-modify-index=${index + 100}`, 'del-cas']);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, 'Error! Did not delete key del-cas: CAS failed\n');
    assert.equal(
      await kvOk(['delete', '-cas', `-modify-index=${index}`, 'del-cas']),
      'Success! Deleted key: del-cas\n',
    );
    const noIndex = await kv(['delete', '-modify-index=3', 'del-cas']);
    assert.equal(noIndex.stderr, 'Cannot specify -modify-index without -cas!\n');
  });

  test('-flags are stored', async () => {
    await kvOk(['put', '-flags=42', 'flagged', 'v']);
    assert.equal((await detailed('flagged')).Flags, '42');
  });

  test('-base64 on put and get, binary values byte for byte', async () => {
    await kvOk(['put', '-base64', 'b64', 'aGVsbG8=']);
    assert.equal(await kvOk(['get', 'b64']), 'hello\n');
    assert.equal(await kvOk(['get', '-base64', 'b64']), 'aGVsbG8=\n');

    await kvOk(['put', '-base64', 'binary', 'AAEC/w==']);
    const raw = (await kv(['get', 'binary'])).raw;
    assert.deepEqual([...raw], [0, 1, 2, 255, 10]);

    const bad = await kv(['put', '-base64', 'b64', 'a$b=']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error! Cannot base 64 decode data: illegal base64 data at input byte 1\n');
  });

  test('data from @file and from stdin', async () => {
    const file = join(dir, 'value.txt');
    await writeFile(file, 'from a file\n');
    await kvOk(['put', 'file', `@${file}`]);
    assert.equal(await kvOk(['get', 'file']), 'from a file\n\n');
    await kvOk(['put', 'stdin', '-'], 'from stdin');
    assert.equal(await kvOk(['get', 'stdin']), 'from stdin\n');
    // Only a lone dash means stdin.
    await kvOk(['put', 'dash', '-x']);
    assert.equal(await kvOk(['get', 'dash']), '-x\n');
    const missing = await kv(['put', 'file', '@/nonexistent/file']);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      'Error! Failed to read file: open /nonexistent/file: no such file or directory\n',
    );
  });

  test('argument errors', async () => {
    const none = await kv(['get']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'Error! Missing KEY argument\n');
    const tooMany = await kv(['put', 'a', 'b', 'c']);
    assert.equal(tooMany.stderr, 'Error! Too many arguments (expected 1 or 2, got 3)\n');
    const slash = await kv(['put', '/abs', 'x']);
    assert.equal(
      slash.stderr,
      "Error! Failed writing data: Invalid key. Key must not begin with a '/': /abs\n",
    );
  });
});

describe('kv get -recurse / -keys / -separator', () => {
  before(async () => {
    await kvOk(['put', 'tree/a', '1']);
    await kvOk(['put', 'tree/b/c', '2']);
    await kvOk(['put', 'tree/b/d', '3']);
    await kvOk(['put', 'treehouse', '4']);
  });

  test('-recurse prints key:value under the prefix', async () => {
    assert.equal(await kvOk(['get', '-recurse', 'tree/']), 'tree/a:1\ntree/b/c:2\ntree/b/d:3\n');
    assert.equal(await kvOk(['get', '-recurse', 'tree']), 'tree/a:1\ntree/b/c:2\ntree/b/d:3\ntreehouse:4\n');
    assert.equal(await kvOk(['get', '-recurse', '-base64', 'tree/b/']), 'tree/b/c:Mg==\ntree/b/d:Mw==\n');
  });

  test('-recurse -detailed prints blocks separated by blank lines', async () => {
    const blocks = (await kvOk(['get', '-recurse', '-detailed', 'tree/b/'])).split('\n\n');
    assert.equal(blocks.length, 2);
    assert.match(blocks[0]!, /^CreateIndex {6}\d+\n/);
    assert.match(blocks[1]!, /\nKey {14}tree\/b\/d\n/);
    assert.match(blocks[1]!, /\nValue {12}3\n$/);
  });

  test('-keys folds at the separator', async () => {
    assert.equal(await kvOk(['get', '-keys', 'tree/']), 'tree/a\ntree/b/\n');
    assert.equal(await kvOk(['get', '-keys', '-separator=', 'tree/']), 'tree/a\ntree/b/c\ntree/b/d\n');
    assert.equal(await kvOk(['get', '-keys', 'tree/b/']), 'tree/b/c\ntree/b/d\n');
    const top = (await kvOk(['get', '-keys'])).split('\n');
    assert.ok(top.includes('tree/') && top.includes('treehouse'), top.join(','));
  });

  test('-keys -recurse lists every key', async () => {
    assert.equal(await kvOk(['get', '-keys', '-recurse', 'tree/b']), 'tree/b/c\ntree/b/d\n');
  });

  test('an empty prefix lists nothing', async () => {
    assert.equal(await kvOk(['get', '-recurse', 'no-such-prefix/']), '');
    assert.equal(await kvOk(['get', '-keys', 'no-such-prefix/']), '');
  });

  test('delete -recurse', async () => {
    await kvOk(['put', 'gone/a', '1']);
    await kvOk(['put', 'gone/b/c', '2']);
    assert.equal(await kvOk(['delete', '-recurse', 'gone/']), 'Success! Deleted keys with prefix: gone/\n');
    assert.equal(await kvOk(['get', '-recurse', 'gone/']), '');
  });
});

describe('kv export / import', () => {
  test('export, delete, import restores the tree', async () => {
    await kvOk(['put', '-flags=7', 'exp/a', 'alpha']);
    await kvOk(['put', '-base64', 'exp/bin', 'AP8=']);
    await kvOk(['put', 'exp/nested/<&>', '']);

    const exported = await kvOk(['export', 'exp/']);
    // Go's json.MarshalIndent with tabs, HTML characters escaped.
    assert.ok(
      exported.startsWith('[\n\t{\n\t\t"key": "exp/a",\n\t\t"flags": 7,\n\t\t"value": "YWxwaGE="\n\t},'),
      exported,
    );
    assert.ok(exported.includes('"key": "exp/nested/\\u003c\\u0026\\u003e"'), exported);
    assert.deepEqual(JSON.parse(exported), [
      { key: 'exp/a', flags: 7, value: 'YWxwaGE=' },
      { key: 'exp/bin', flags: 0, value: 'AP8=' },
      { key: 'exp/nested/<&>', flags: 0, value: '' },
    ]);

    await kvOk(['delete', '-recurse', 'exp/']);
    assert.equal(await kvOk(['export', 'exp/']), '[]\n');

    assert.equal(
      await kvOk(['import', '-'], exported),
      'Imported: exp/a\nImported: exp/bin\nImported: exp/nested/<&>\n',
    );
    assert.equal(await kvOk(['export', 'exp/']), exported);
    assert.equal((await detailed('exp/a')).Flags, '7');
  });

  test('import from @file with -prefix', async () => {
    const file = join(dir, 'import.json');
    await writeFile(
      file,
      JSON.stringify([{ key: 'x/y', flags: 0, value: Buffer.from('z').toString('base64') }]),
    );
    assert.equal(await kvOk(['import', '-prefix=restored', `@${file}`]), 'Imported: restored/x/y\n');
    assert.equal(await kvOk(['get', 'restored/x/y']), 'z\n');
  });

  test('import rejects bad data', async () => {
    const notJson = await kv(['import', 'not json']);
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /^Cannot unmarshal data: /);
    const badValue = await kv(['import', '[{"key":"k","flags":0,"value":"!!"}]']);
    assert.equal(badValue.code, 1);
    assert.equal(
      badValue.stderr,
      'Error base 64 decoding value for key k: illegal base64 data at input byte 0\n',
    );
    const none = await kv(['import']);
    assert.equal(none.stderr, 'Error! Missing DATA argument\n');
  });
});
