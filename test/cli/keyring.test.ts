import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, randomLoopback, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';
import { runCli } from './run-cli.ts';

// `tribune keyring` as a real process against two dev agents sharing a gossip key: Consul's listings, its
// progress lines, its usage errors and exit codes, through a full rotation to a second key.

const newKey = () => randomBytes(16).toString('base64');

describe('tribune keyring against two encrypted dev agents', { timeout: 120_000 }, () => {
  const k1 = newKey();
  let a: DevAgent;
  let b: DevAgent;
  const cli = (args: string[], agent = a) => runCli(['keyring', ...args], { addr: agent.httpAddr });
  const listing = (header: string, keys: Record<string, number>) => {
    const lines = Object.entries(keys)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([key, n]) => `  ${key} [${n}/2]`);
    return `==> ${header}\n\nWAN:\n${lines.join('\n')}\n\ndc1 (LAN):\n${lines.join('\n')}\n`;
  };

  before(async () => {
    [a, b] = await Promise.all([startDevAgent(['-encrypt', k1]), startDevAgent(['-encrypt', k1])]);
    assert.equal((await api(a.httpAddr, 'PUT', `/v1/agent/join/${b.host}`)).status, 200);
    await eventually('both agents in both pools', async () => {
      const lan = (await api(b.httpAddr, 'GET', '/v1/agent/members')).json<unknown[]>();
      const wan = (await api(b.httpAddr, 'GET', '/v1/agent/members?wan=1')).json<unknown[]>();
      return lan.length === 2 && wan.length === 2 ? true : undefined;
    });
  });
  after(() => Promise.all([a?.stop(), b?.stop()]));

  test('usage errors: no action, two actions, a relay factor out of range, local-only on a write', async () => {
    const none = await cli([]);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /^Usage: tribune keyring \[options\]\n/);
    assert.match(none.stderr, /\n {2}-list-primary\n/);

    const cases: [string[], string][] = [
      [['-list', '-install', k1], 'Only a single action is allowed'],
      [['-list', '-relay-factor', '6'], 'Error parsing relay factor: Relay factor must be in range: [0, 5]'],
      [
        ['-use', k1, '-local-only'],
        'Error validating local-only: local-only can only be set for list requests',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, `${message}\n`);
    }
    const badFlag = await cli(['-relay-factor', 'x', '-list']);
    assert.equal(badFlag.code, 1);
    assert.match(badFlag.stderr, /^invalid value "x" for flag -relay-factor: parse error\n/);
  });

  test('-list and -list-primary print each pool with its keys and counts', async () => {
    const list = await cli(['-list']);
    assert.equal(list.stderr, '');
    assert.equal(list.code, 0);
    assert.equal(list.stdout, listing('Gathering installed encryption keys...', { [k1]: 2 }));
    const primary = await cli(['-list-primary', '-relay-factor', '1'], b);
    assert.equal(primary.code, 0, primary.stderr);
    assert.equal(primary.stdout, listing('Gathering installed primary encryption keys...', { [k1]: 2 }));
    const local = await cli(['-list', '-local-only']);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stdout, `==> Gathering installed encryption keys...\n\ndc1 (LAN):\n  ${k1} [2/2]\n`);
  });

  test('-install, -use and -remove rotate the cluster; refusals exit 1 with the error', async () => {
    const k2 = newKey();
    const install = await cli(['-install', k2]);
    assert.equal(install.code, 0, install.stderr);
    assert.equal(install.stdout, '==> Installing new gossip encryption key...\n');
    assert.equal(
      (await cli(['-list'])).stdout,
      listing('Gathering installed encryption keys...', { [k1]: 2, [k2]: 2 }),
    );

    const use = await cli(['-use', k2], b);
    assert.equal(use.code, 0, use.stderr);
    assert.equal(use.stdout, '==> Changing primary gossip encryption key...\n');
    assert.equal(
      (await cli(['-list-primary'])).stdout,
      listing('Gathering installed primary encryption keys...', { [k2]: 2 }),
    );

    const refused = await cli(['-remove', k2]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '==> Removing gossip encryption key...\n');
    assert.match(
      refused.stderr,
      /^error: Unexpected response code: 500 \(6 errors occurred:\n\t\* WAN error: 2\/2 nodes reported failure\n/,
    );
    assert.match(refused.stderr, /Removing the primary key is not allowed\)\n$/);

    const remove = await cli(['-remove', k1]);
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal(remove.stdout, '==> Removing gossip encryption key...\n');
    assert.equal(
      (await cli(['-list'])).stdout,
      listing('Gathering installed encryption keys...', { [k2]: 2 }),
    );

    const unknown = await cli(['-use', newKey()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Requested key is not in the keyring/);
  });

  test('an agent that cannot be reached: the error, exit 1', async () => {
    // Nothing listens on Consul's port of an unused loopback address.
    const addr = `${randomLoopback()}:8500`;
    const result = await runCli(['keyring', '-list'], { addr });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '==> Gathering installed encryption keys...\n');
    assert.equal(
      result.stderr,
      `error: Get "http://${addr}/v1/operator/keyring": dial tcp ${addr}: connect: connection refused\n`,
    );
  });
});
