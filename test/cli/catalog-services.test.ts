import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { ok, runCli } from './run-cli.ts';

// `tribune catalog ...` and `tribune services ...` against a real dev agent.

let agent: DevAgent;
let dir: string;
let nodeName: string;
const cli = (args: string[]) => runCli(args, { addr: agent.httpAddr });
const cliOk = (args: string[]) => ok(args, { addr: agent.httpAddr });

/** Splits a columnized table, checking every column starts at the same offset on every line. */
function table(text: string): string[][] {
  const lines = text.replace(/\n$/, '').split('\n');
  const starts = [...lines[0]!.matchAll(/(?:^|(?<= {2}))\S/g)].map((m) => m.index);
  for (const line of lines) {
    for (const start of starts.slice(1)) {
      if (line.length > start)
        assert.match(line.slice(start - 2, start + 1), /^ {2}\S$/, `column at ${start}: ${line}`);
    }
  }
  return lines.map((line) => line.trim().split(/ {2,}/));
}

before(async () => {
  agent = await startDevAgent(['-node-meta', 'rack:a1', '-node-meta', 'zone:z9']);
  nodeName = `test-${agent.host}`;
  dir = await mkdtemp(join(tmpdir(), 'tribune-cli-services-'));
});

after(async () => {
  await agent?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('catalog', () => {
  test('datacenters', async () => {
    assert.equal(await cliOk(['catalog', 'datacenters']), 'dc1\n');
  });

  test('nodes', async () => {
    const [header, row, ...rest] = table(await cliOk(['catalog', 'nodes']));
    assert.deepEqual(header, ['Node', 'ID', 'Address', 'DC']);
    assert.equal(rest.length, 0);
    assert.equal(row![0], nodeName);
    assert.match(row![1]!, /^[0-9a-f]{8}$/);
    assert.deepEqual(row!.slice(2), [agent.host, 'dc1']);
  });

  test('nodes -detailed', async () => {
    const [header, row] = table(await cliOk(['catalog', 'nodes', '-detailed']));
    assert.deepEqual(header, ['Node', 'ID', 'Address', 'DC', 'TaggedAddresses', 'Meta']);
    assert.match(row![1]!, /^[0-9a-f-]{36}$/);
    assert.match(row![4]!, new RegExp(`lan=${agent.host.replaceAll('.', '\\.')}`));
    assert.match(row![5]!, /rack=a1, zone=z9/);
  });

  test('nodes -node-meta and -filter', async () => {
    const matching = table(await cliOk(['catalog', 'nodes', '-node-meta', 'rack=a1']));
    assert.equal(matching[1]![0], nodeName);
    const none = await cli(['catalog', 'nodes', '-node-meta=rack=b2']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr, 'No nodes match the given query - try expanding your search.\n');
    const filtered = table(await cliOk(['catalog', 'nodes', '-filter', 'Meta.zone == "z9"']));
    assert.equal(filtered[1]![0], nodeName);
    const bad = await cli(['catalog', 'nodes', '-node-meta=rack']);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^invalid value "rack" for flag -node-meta: Missing "=" value in argument: rack\n/,
    );
  });
});

describe('services register / deregister', () => {
  test('from a JSON file in agent-config style, then listed and deregistered', async () => {
    const file = join(dir, 'web.json');
    await writeFile(
      file,
      JSON.stringify({
        service: {
          name: 'web',
          id: 'web-1',
          port: 8080,
          tags: ['v1', 'primary'],
          meta: { owner_team: 'edge' },
        },
      }),
    );
    assert.equal(await cliOk(['services', 'register', file]), 'Registered service: web\n');

    const registered = (await (
      await fetch(`http://${agent.httpAddr}/v1/agent/service/web-1`)
    ).json()) as Record<string, unknown>;
    assert.equal(registered.Service, 'web');
    assert.equal(registered.Port, 8080);
    assert.deepEqual(registered.Meta, { owner_team: 'edge' });

    assert.ok((await cliOk(['catalog', 'services'])).split('\n').includes('web'));
    const tagged = (await cliOk(['catalog', 'services', '-tags'])).split('\n');
    // Go's tabwriter: the first column padded to its widest entry plus 6.
    const width = Math.max(...tagged.map((line) => line.split(' ')[0]!.length)) + 6;
    assert.ok(tagged.includes(`${'web'.padEnd(width)}primary,v1`), tagged.join('|'));
    assert.ok((await cliOk(['catalog', 'services', '-node', nodeName])).split('\n').includes('web'));
    const [, row] = table(await cliOk(['catalog', 'nodes', '-service=web']));
    assert.equal(row![0], nodeName);

    assert.equal(await cliOk(['services', 'deregister', file]), 'Deregistered service: web-1\n');
    assert.ok(!(await cliOk(['catalog', 'services'])).split('\n').includes('web'));
  });

  test('several services from a "services" array', async () => {
    const file = join(dir, 'multi.json');
    await writeFile(
      file,
      JSON.stringify({
        Services: [
          { Name: 'db', Port: 5432 },
          { name: 'cache', port: 6379 },
        ],
      }),
    );
    assert.equal(
      await cliOk(['services', 'register', file]),
      'Registered service: db\nRegistered service: cache\n',
    );
    assert.equal(
      await cliOk(['services', 'deregister', file]),
      'Deregistered service: db\nDeregistered service: cache\n',
    );
  });

  test('from an HCL file', async () => {
    const file = join(dir, 'api.hcl');
    await writeFile(file, 'service {\n  name = "api"\n  port = 9090\n  meta {\n    tier = "front"\n  }\n}\n');
    assert.equal(await cliOk(['services', 'register', file]), 'Registered service: api\n');
    const registered = (await (
      await fetch(`http://${agent.httpAddr}/v1/agent/service/api`)
    ).json()) as Record<string, unknown>;
    assert.equal(registered.Port, 9090);
    assert.deepEqual(registered.Meta, { tier: 'front' });
    assert.equal(await cliOk(['services', 'deregister', file]), 'Deregistered service: api\n');
  });

  test('from flags, deregistered by -id', async () => {
    const out = await cliOk([
      'services',
      'register',
      '-name=api',
      '-id=api-1',
      '-address=10.1.2.3',
      '-port=9000',
      '-tag=a',
      '-tag=b',
      '-meta',
      'k=v',
    ]);
    assert.equal(out, 'Registered service: api\n');
    const service = (await (await fetch(`http://${agent.httpAddr}/v1/agent/service/api-1`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(service.Address, '10.1.2.3');
    assert.deepEqual(service.Tags, ['a', 'b']);
    assert.deepEqual(service.Meta, { k: 'v' });
    assert.equal(await cliOk(['services', 'deregister', '-id', 'api-1']), 'Deregistered service: api-1\n');
  });

  test('usage errors', async () => {
    const none = await cli(['services', 'register']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'Service registration requires at least one argument or flags.\n');
    const missing = await cli(['services', 'register', join(dir, 'absent.json')]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^Error: config: Open failed on .*absent\.json\. open .*: no such file or directory\n$/,
    );
    const both = await cli(['services', 'deregister', '-id=x', 'file.json']);
    assert.equal(both.stderr, 'Service deregistration requires arguments or -id, not both.\n');
  });
});
