import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, randomLoopback, startAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';
import { startWatch, type WatchProcess } from '../helpers/watch-process.ts';
import { runCli } from './run-cli.ts';

// `tribune watch` given bad input, a failing or hung handler, or an agent that goes away: Consul's messages
// and exit codes for what cannot start; for what goes wrong while watching, a clear log line and a watch
// that keeps going.

describe('tribune watch when things go wrong', { timeout: 60_000 }, () => {
  let agent: DevAgent;
  const watches: WatchProcess[] = [];
  before(async () => {
    agent = await startDevAgent();
  });
  after(async () => {
    await Promise.all(watches.map((w) => w.stop()));
    await agent?.stop();
  });
  const cli = (args: string[]) => runCli(['watch', ...args], { addr: agent.httpAddr });
  const watch = (args: string[], after = '') => {
    const started = startWatch(agent.httpAddr, args, after);
    watches.push(started);
    return started;
  };

  test('usage errors: exit 1 with Consul’s message', async () => {
    const missingType = await cli([]);
    assert.equal(missingType.code, 1);
    assert.match(
      missingType.stderr,
      /^Watch type must be specified\n\nUsage: tribune watch \[options\] \[child\.\.\.\]/,
    );
    const cases: [string[], string][] = [
      [['-type=bogus'], 'Unsupported watch type: bogus'],
      [['-type=key'], 'Must specify a single key to watch'],
      [['-type=keyprefix'], 'Must specify a single prefix to watch'],
      [['-type=service'], 'Must specify a single service to watch'],
      [['-type=checks', '-service=web', '-state=passing'], 'Cannot specify service and state'],
      [['-type=key', '-key=a', '-name=x'], 'Invalid parameters: [name]'],
      [
        ['-type=service', '-service=web', '-passingonly=maybe'],
        'Failed to parse passingonly flag: strconv.ParseBool: parsing "maybe": invalid syntax',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      assert.equal(result.stderr, `${message}\n`, args.join(' '));
      assert.equal(result.code, 1);
    }
    // An address where nothing listens: a port the OS handed out and took back.
    const free = createServer().listen(0, '127.0.0.1');
    await once(free, 'listening');
    const addr = `127.0.0.1:${(free.address() as AddressInfo).port}`;
    free.close();
    const unreachable = await runCli(['watch', '-type=nodes', `-http-addr=${addr}`]);
    assert.equal(unreachable.code, 1);
    assert.equal(
      unreachable.stderr,
      `Error querying Consul agent: Get "http://${addr}/v1/status/leader": dial tcp ${addr}: connect: connection refused\n`,
    );
  });

  test('without a handler the current value is printed once, indented, and the watch ends', async () => {
    await api(agent.httpAddr, 'PUT', '/v1/kv/printed', 'v');
    const result = await cli(['-type=keyprefix', '-prefix=printed']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^\[\n {4}\{\n {8}"Key": "printed",\n {8}"CreateIndex": \d+,/);
    assert.match(result.stdout, /"Session": ""\n {4}\}\n\]\n$/);
  });

  test('a handler that exits non-zero is reported and the watch goes on', async () => {
    const w = watch(['-type=key', '-key=flaky'], 'exit 3');
    await w.awaitRuns(1);
    await api(agent.httpAddr, 'PUT', '/v1/kv/flaky', 'v1');
    const [, second] = await w.awaitRuns(2);
    assert.match(second!.json, /"Key":"flaky"/);
    assert.match(
      w.stderr(),
      /\[ERROR\] watch: Failed to run watch handler: watch_handler=".*" error="exit status 3"/,
    );
    assert.equal(w.process.exitCode, null, 'still watching');
  });

  test('a hung handler is killed at -handler-timeout, with everything it started, and the watch goes on', async () => {
    // The handler waits on a child of its own that never ends by itself, and records that child's pid.
    const w = watch(
      ['-type=key', '-key=hung', '-handler-timeout=500ms'],
      'sleep 300 & echo $! > "$f.pid"; wait',
    );
    await w.awaitRuns(1);
    await eventually('the timeout message', async () =>
      /Watch handler timed out and was killed: .* timeout=500ms/.test(w.stderr()) ? true : undefined,
    );
    const [pidFile] = readdirSync(w.dir).filter((name) => name.endsWith('.pid'));
    const sleeper = Number(readFileSync(join(w.dir, pidFile!), 'utf8'));
    await eventually("the handler's child gone too", async () => (dead(sleeper) ? true : undefined));
    await api(agent.httpAddr, 'PUT', '/v1/kv/hung', 'v1');
    const [, second] = await w.awaitRuns(2);
    assert.match(second!.json, /"Key":"hung"/);
  });

  test('a watch rides out its agent going away: errors are logged, retried, and the new state delivered', async () => {
    // A dev agent of its own on a fixed port, so a new one can take its place with fresh (lower) indexes.
    const host = randomLoopback();
    const first = await startAgent(host, ['-dev', '-node', `watched-${host}`]);
    const port = first.port;
    const w = startWatch(first.httpAddr, ['-type=keyprefix', '-prefix=cfg/']);
    watches.push(w);
    await w.awaitRuns(1);
    for (let i = 0; i < 5; i++) await api(first.httpAddr, 'PUT', `/v1/kv/filler${i}`, 'x');
    await api(first.httpAddr, 'PUT', '/v1/kv/cfg/a', 'old');
    await w.awaitRuns(2);
    await first.stop();
    await eventually('the error and its retry in the log', async () =>
      /\[ERROR\] watch: Watch errored: type=keyprefix error=.* retry=5s/.test(w.stderr()) ? true : undefined,
    );
    const second = await startAgent(host, ['-dev', '-node', `watched-${host}`, '-http-port', String(port)]);
    try {
      await api(second.httpAddr, 'PUT', '/v1/kv/cfg/a', 'new');
      const runs = await w.awaitRuns(3, 30_000);
      assert.match(runs[2]!.json, new RegExp(`"Value":"${Buffer.from('new').toString('base64')}"`));
    } finally {
      await second.stop();
    }
  });
});

/** No such process, or only its zombie (killed, its orphan not reaped yet by init). */
function dead(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z';
}
