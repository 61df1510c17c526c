import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TRIBUNE_VERSION } from '../../src/agent/version.ts';
import { runCli } from './run-cli.ts';

// Dispatch, help, usage errors and exit codes, and what the client sends, without an agent.

describe('dispatch and help', () => {
  test('no command prints the command list and exits 127', async () => {
    const result = await runCli([]);
    assert.equal(result.code, 127);
    assert.match(
      result.stderr,
      /^Usage: tribune \[--version\] \[--help\] <command> \[<args>\]\n\nAvailable commands are:\n/,
    );
    // Names are padded to the longest command name, as Consul's CLI lists them.
    assert.match(result.stderr, /\n {4}kv {13}Interact with the key-value store\n/);
  });

  test('unknown command exits 127; -h exits 0 with help on stdout', async () => {
    assert.equal((await runCli(['bogus'])).code, 127);
    const help = await runCli(['-h']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tribune /);
  });

  test('a group without subcommand prints its subcommands and exits 1', async () => {
    for (const args of [['kv'], ['kv', 'bogus']]) {
      const result = await runCli(args);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^Usage: tribune kv <subcommand>/);
      assert.match(result.stderr, /\nSubcommands:\n {4}delete {4}Removes data from the KV store\n/);
    }
  });

  test('-h anywhere before -- prints the command help', async () => {
    for (const args of [
      ['kv', 'get', '-h'],
      ['kv', 'put', 'key', '-help'],
      ['catalog', 'nodes', '--help'],
    ]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, new RegExp(`^Usage: tribune ${args[0]} ${args[1]} \\[options\\]`));
      assert.match(result.stdout, /\nHTTP API Options\n\n {2}-datacenter=<string>\n/);
      assert.match(result.stdout, /\nCommand Options\n\n/);
    }
  });

  test('bin/tribune.js runs the CLI', async () => {
    const bin = fileURLToPath(new URL('../../bin/tribune.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'version']);
    assert.match(stdout, /^Tribune v/);
  });

  test('version', async () => {
    for (const args of [['version'], ['-v'], ['--version']]) {
      const result = await runCli(args);
      assert.equal(result.code, 0);
      assert.match(
        result.stdout,
        new RegExp(`^Tribune v${TRIBUNE_VERSION.replaceAll('.', '\\.')}\nProtocol 2 `),
      );
    }
  });

  test('flag errors print Go-style messages and usage, exit 1', async () => {
    const unknown = await runCli(['kv', 'get', '-nope', 'k']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^flag provided but not defined: -nope\n\nUsage: tribune kv get /);
    const badInt = await runCli(['kv', 'put', '-flags=x', 'k', 'v']);
    assert.match(badInt.stderr, /^invalid value "x" for flag -flags: parse error\n/);
    const noValue = await runCli(['kv', 'get', '-separator']);
    assert.match(noValue.stderr, /^flag needs an argument: -separator\n/);
  });

  test('agent configuration errors name the flag', async () => {
    const result = await runCli([
      'agent',
      '-dev',
      '-datacenter',
      'no spaces',
      '-node-id=nope',
      '-log-level=loud',
    ]);
    assert.equal(result.code, 1);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines[0], '==> Invalid agent configuration:');
    assert.ok(
      lines.includes('    -datacenter: Datacenter must be alphanumeric with underscores and hyphens only'),
      result.stderr,
    );
    assert.ok(
      lines.some((line) => line.startsWith('    -node-id: ')),
      result.stderr,
    );
    assert.ok(
      lines.some((line) => line.startsWith('    -log-level: ')),
      result.stderr,
    );
  });
});

describe('what the client sends', () => {
  // A recorder standing in for the agent: the real agent cannot show which headers and parameters arrived.
  let server: Server;
  let addr: string;
  let requests: IncomingMessage[] = [];
  let reply: { status: number; body: string } = { status: 200, body: '[]' };
  let dir: string;

  before(async () => {
    server = createServer((req, res) => {
      requests.push(req);
      res.writeHead(reply.status, {
        'Content-Type': reply.status === 200 ? 'application/json' : 'text/plain',
      });
      res.end(reply.body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'tribune-cli-usage-'));
  });

  after(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const lastRequest = () => requests.at(-1)!;

  test('token from -token, env and token file, as X-Consul-Token', async () => {
    requests = [];
    await runCli(['kv', 'get', '-keys', '-token=flag-token', 'p/'], { addr });
    assert.equal(lastRequest().headers['x-consul-token'], 'flag-token');
    await runCli(['kv', 'get', '-keys', 'p/'], { addr, env: { CONSUL_HTTP_TOKEN: 'env-token' } });
    assert.equal(lastRequest().headers['x-consul-token'], 'env-token');
    const file = join(dir, 'token');
    await writeFile(file, 'file-token\n');
    await runCli(['kv', 'get', '-keys', `-token-file=${file}`, 'p/'], { addr });
    assert.equal(lastRequest().headers['x-consul-token'], 'file-token');
    await runCli(['kv', 'get', '-keys', 'p/'], { addr });
    assert.equal(lastRequest().headers['x-consul-token'], undefined);
  });

  test('address from -http-addr, TRIBUNE_HTTP_ADDR, CONSUL_HTTP_ADDR, with or without scheme', async () => {
    const closed = await closedPort();
    requests = [];
    await runCli(['kv', 'get', '-keys', `-http-addr=http://${addr}`], { addr: `127.0.0.1:${closed}` });
    await runCli(['kv', 'get', '-keys'], { addr: `127.0.0.1:${closed}`, env: { TRIBUNE_HTTP_ADDR: addr } });
    await runCli(['kv', 'get', '-keys'], { env: { CONSUL_HTTP_ADDR: `http://${addr}` } });
    assert.equal(requests.length, 3);
  });

  test('query parameters as Consul sends them', async () => {
    requests = [];
    await runCli(['kv', 'get', '-keys', '-datacenter=dc2', '-stale', 'a b/'], { addr });
    const url = new URL(lastRequest().url!, 'http://x');
    assert.equal(url.pathname, '/v1/kv/a%20b/');
    assert.equal(url.searchParams.get('dc'), 'dc2');
    assert.equal(url.searchParams.get('separator'), '/');
    assert.ok(url.searchParams.has('keys') && url.searchParams.has('stale'));

    reply = { status: 200, body: 'true' };
    await runCli(['kv', 'put', '-flags=7', '-cas', '-modify-index=0', 'k', 'v'], { addr });
    const put = new URL(lastRequest().url!, 'http://x');
    assert.equal(lastRequest().method, 'PUT');
    assert.equal(put.searchParams.get('flags'), '7');
    assert.equal(put.searchParams.get('cas'), '0');
    assert.equal(put.searchParams.has('stale'), false);
    reply = { status: 200, body: '[]' };
  });

  test('HTTP errors and unreachable agents are reported as Consul reports them', async () => {
    reply = { status: 500, body: 'No cluster leader\n' };
    const failed = await runCli(['kv', 'get', 'k'], { addr });
    assert.equal(failed.code, 1);
    assert.equal(
      failed.stderr,
      'Error querying Consul agent: Unexpected response code: 500 (No cluster leader)\n',
    );
    reply = { status: 200, body: '[]' };

    const closed = await closedPort();
    const refused = await runCli(['kv', 'get', 'k'], { addr: `127.0.0.1:${closed}` });
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `Error querying Consul agent: Get "http://127.0.0.1:${closed}/v1/kv/k": dial tcp 127.0.0.1:${closed}: connect: connection refused\n`,
    );

    const scheme = await runCli(['kv', 'get', '-http-addr=ftp://x', 'k']);
    assert.equal(scheme.stderr, 'Error connecting to Consul agent: Unknown protocol scheme: ftp\n');
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}
