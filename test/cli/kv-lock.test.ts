import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { ok, runCli } from './run-cli.ts';

// `kv put -acquire/-release -session` against a real dev agent, with sessions made through the HTTP API.

let agent: DevAgent;
const kv = (args: string[]) => runCli(['kv', ...args], { addr: agent.httpAddr });
const kvOk = (args: string[]) => ok(['kv', ...args], { addr: agent.httpAddr });

async function createSession(): Promise<string> {
  const response = await fetch(`http://${agent.httpAddr}/v1/session/create`, { method: 'PUT', body: '{}' });
  assert.equal(response.status, 200);
  return ((await response.json()) as { ID: string }).ID;
}

function field(detailed: string, name: string): string {
  return new RegExp(`^${name} +(.*)$`, 'm').exec(detailed)?.[1] ?? '';
}

before(async () => {
  agent = await startDevAgent();
});

after(async () => {
  await agent?.stop();
});

test('acquire and release a lock with -session', async () => {
  const [holder, other] = [await createSession(), await createSession()];

  assert.equal(
    await kvOk(['put', '-acquire', `-session=${holder}`, 'locks/leader', 'me']),
    'Success! Lock acquired on: locks/leader\n',
  );
  let detailed = await kvOk(['get', '-detailed', 'locks/leader']);
  assert.equal(field(detailed, 'Session'), holder);
  assert.equal(field(detailed, 'LockIndex'), '1');
  assert.equal(field(detailed, 'Value'), 'me');

  const contended = await kv(['put', '-acquire', '-session', other, 'locks/leader', 'them']);
  assert.equal(contended.code, 1);
  assert.equal(contended.stderr, 'Error! Did not acquire lock\n');
  const foreign = await kv(['put', '-release', `-session=${other}`, 'locks/leader']);
  assert.equal(foreign.code, 1);
  assert.equal(foreign.stderr, 'Error! Did not release lock\n');

  assert.equal(
    await kvOk(['put', '-release', `-session=${holder}`, 'locks/leader', 'me']),
    'Success! Lock released on: locks/leader\n',
  );
  detailed = await kvOk(['get', '-detailed', 'locks/leader']);
  assert.equal(field(detailed, 'Session'), '-');
  assert.equal(field(detailed, 'LockIndex'), '1');
});

test('-acquire and -release need -session', async () => {
  for (const flag of ['-acquire', '-release']) {
    const result = await kv(['put', flag, 'locks/x', 'v']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'Error! Missing -session (required with -acquire and -release)\n');
  }
});
