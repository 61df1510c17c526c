import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { ok, runCli } from './run-cli.ts';

// `tribune members`, `info` and `leave` against a real dev agent; leave runs last, as it stops the agent.

let agent: DevAgent;
const cli = (args: string[]) => runCli(args, { addr: agent.httpAddr });
const cliOk = (args: string[]) => ok(args, { addr: agent.httpAddr });

before(async () => {
  agent = await startDevAgent();
});

after(async () => {
  await agent?.stop();
});

test('members', async () => {
  const lines = (await cliOk(['members'])).replace(/\n$/, '').split('\n');
  assert.equal(lines.length, 2);
  const header = lines[0]!.split(/ {2,}/);
  assert.deepEqual(header, [
    'Node',
    'Address',
    'Status',
    'Type',
    'Build',
    'Protocol',
    'DC',
    'Partition',
    'Segment',
  ]);
  const row = lines[1]!.split(/ {2,}/);
  assert.equal(row[0], `test-${agent.host}`);
  assert.match(row[1]!, new RegExp(`^${agent.host.replaceAll('.', '\\.')}:\\d+$`));
  assert.deepEqual([row[2], row[3], row[6], row[7], row[8]], ['alive', 'server', 'dc1', 'default', '<all>']);
  // Columns line up: each header cell starts where its row cell starts.
  assert.equal(lines[0]!.indexOf('Status'), lines[1]!.indexOf('alive'));
});

test('members -detailed lists gossip tags', async () => {
  const [header, row] = (await cliOk(['members', '-detailed'])).split('\n');
  assert.deepEqual(header!.split(/ {2,}/), ['Node', 'Address', 'Status', 'Tags']);
  const tags = row!.split(/ {2,}/)[3]!.split(',');
  assert.ok(tags.includes('role=consul'), tags.join(','));
  assert.ok(tags.includes('dc=dc1'), tags.join(','));
  assert.deepEqual(tags, [...tags].sort());
});

test('members -status filters, exiting 2 when nothing matches', async () => {
  assert.match(await cliOk(['members', '-status=^alive$']), /alive/);
  const none = await cli(['members', '-status=failed']);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
});

test('info prints Stats grouped by section', async () => {
  const lines = (await cliOk(['info'])).replace(/\n$/, '').split('\n');
  assert.ok(lines.includes('agent:'), lines.join('\n'));
  const sections = lines.filter((line) => !line.startsWith('\t'));
  assert.deepEqual(sections, [...sections].sort());
  for (const line of sections) assert.match(line, /^\S+:$/);
  for (const line of lines.filter((l) => l.startsWith('\t'))) assert.match(line, /^\t\S+ = /);
});

test('an agent whose gossip port is taken exits 1 naming the port, not a crash in its shutdown', async () => {
  // The dev agent of this file already holds the default LAN gossip port on its address.
  const result = await runCli([
    'agent',
    '-dev',
    '-bind',
    agent.host,
    '-client',
    agent.host,
    '-http-port',
    '0',
    '-dns-port',
    '0',
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /gossip: cannot listen on TCP: .*EADDRINUSE.*:8301/);
});

test('leave makes the agent shut down', async () => {
  const exited = once(agent.process, 'exit');
  const result = await cli(['leave']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'Graceful leave complete\n');
  const [code] = await exited;
  assert.equal(code, 0);
});
