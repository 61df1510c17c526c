import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, randomLoopback, startDevAgent } from '../helpers/dev-agent.ts';
import type { ApiEvent } from '../helpers/go-api-json.ts';
import { api, eventually } from '../helpers/http.ts';
import { runCli } from './run-cli.ts';

// `tribune join`, `force-leave`, `event` and `keygen` as real processes against real dev agents, each
// gossiping on <its host>:8301, asserting Consul's output, messages and exit codes.

interface Member {
  Name: string;
  Addr: string;
  Port: number;
  Status: number;
}

const ALIVE = 1;
const LEFT = 3;
const FAILED = 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const nodeName = (agent: DevAgent) => `test-${agent.host}`;
const members = async (agent: DevAgent) =>
  (await api(agent.httpAddr, 'GET', '/v1/agent/members')).json<Member[]>();
const statusOf = async (agent: DevAgent, name: string) =>
  (await members(agent)).find((m) => m.Name === name)?.Status;
const events = async (agent: DevAgent, name: string) =>
  (await api(agent.httpAddr, 'GET', `/v1/event/list?name=${name}`)).json<ApiEvent[]>();

describe('gossip commands against two dev agents', { timeout: 120_000 }, () => {
  let a: DevAgent;
  let b: DevAgent;
  const cli = (args: string[], agent = a) => runCli(args, { addr: agent.httpAddr });

  before(async () => {
    [a, b] = await Promise.all([startDevAgent(), startDevAgent()]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('join contacts the other agent; both then list both alive', async () => {
    const result = await cli(['join', b.host]);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'Successfully joined cluster by contacting 1 nodes.\n');
    await eventually('both agents list both members alive', async () => {
      const views = await Promise.all([a, b].map(members));
      return views.every((view) =>
        [a, b].every((agent) =>
          view.some((m) => m.Name === nodeName(agent) && m.Addr === agent.host && m.Status === ALIVE),
        ),
      )
        ? true
        : undefined;
    });
  });

  test('join of an address nobody listens on fails with the agent error', async () => {
    const nobody = randomLoopback();
    const result = await cli(['join', nobody]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      new RegExp(
        `^Error joining address '${nobody}': Unexpected response code: 500 \\(.*${nobody.replaceAll('.', '\\.')}.*\\)\\nFailed to join any nodes\\.\\n$`,
        's',
      ),
    );
  });

  test('join counts the addresses that answered and reports the others', async () => {
    const nobody = `${randomLoopback()}:8301`;
    const result = await cli(['join', nobody, `${b.host}:8301`]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'Successfully joined cluster by contacting 1 nodes.\n');
    assert.match(
      result.stderr,
      new RegExp(`^Error joining address '${nobody}': Unexpected response code: 500 `),
    );
    assert.doesNotMatch(result.stderr, /Failed to join any nodes/);
  });

  test('join against an agent that is not there fails to connect', async () => {
    const result = await runCli(['join', b.host], { addr: `${randomLoopback()}:18500` });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^Error joining address '[\d.]+': Put "http:\/\/[\d.]+:18500\/v1\/agent\/join\/[\d.]+": dial tcp [\d.]+:18500: connect: connection refused\nFailed to join any nodes\.\n$/,
    );
  });

  test('force-leave of an unknown node fails with the agent error', async () => {
    const result = await cli(['force-leave', 'x']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      "Error force leaving: Unexpected response code: 500 (agent: No node found with name 'x')\n",
    );
  });

  test('event -name deploy payload prints the ID; both agents list the event', async () => {
    const result = await cli(['event', '-name', 'deploy', 'payload']);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    const match = /^Event ID: (\S+)\n$/.exec(result.stdout);
    assert.ok(match, result.stdout);
    const id = match[1]!;
    assert.match(id, UUID);

    const expected = {
      ID: id,
      Name: 'deploy',
      Payload: Buffer.from('payload').toString('base64'),
      NodeFilter: '',
      ServiceFilter: '',
      TagFilter: '',
    };
    const pick = (e: ApiEvent) => ({
      ID: e.ID,
      Name: e.Name,
      Payload: e.Payload,
      NodeFilter: e.NodeFilter,
      ServiceFilter: e.ServiceFilter,
      TagFilter: e.TagFilter,
    });
    assert.deepEqual((await events(a, 'deploy')).map(pick), [expected]);
    // The agents joined in the first test, so the event reaches the other one by gossip.
    const onB = await eventually('the other agent lists the event', async () => {
      const list = await events(b, 'deploy');
      return list.some((e) => e.ID === id) ? list : undefined;
    });
    assert.deepEqual(onB.map(pick), [expected]);
  });

  test('event without payload, and with a node filter only the matching agent keeps', async () => {
    const bare = await cli(['event', '-name=ping']);
    assert.equal(bare.code, 0, bare.stderr);
    const bareId = /^Event ID: (\S+)\n$/.exec(bare.stdout)![1]!;
    assert.deepEqual(
      (await events(a, 'ping')).map((e) => [e.ID, e.Payload]),
      [[bareId, null]],
    );

    const onlyB = `^${nodeName(b).replaceAll('.', '\\.')}$`;
    const filtered = await cli(['event', '-name', 'only-b', '-node', onlyB, 'x']);
    assert.equal(filtered.code, 0, filtered.stderr);
    const id = /^Event ID: (\S+)\n$/.exec(filtered.stdout)![1]!;
    const onB = await eventually('b keeps the event addressed to it', async () => {
      const list = await events(b, 'only-b');
      return list.length > 0 ? list : undefined;
    });
    assert.deepEqual(
      onB.map((e) => [e.ID, e.NodeFilter]),
      [[id, onlyB]],
    );
    assert.deepEqual(await events(a, 'only-b'), []);
  });

  test('event validation: Consul wording, in its order, exit 1 and nothing fired', async () => {
    const cases: [string[], RegExp | string][] = [
      [['event'], /^Event name must be specified\n\nUsage: tribune event \[options\] \[payload\]\n/],
      [['event', 'payload'], /^Event name must be specified\n\nUsage: tribune event /],
      [
        ['event', '-name=bad', '-node=('],
        'Failed to compile node filter regexp: error parsing regexp: missing closing ): `(`\n',
      ],
      [
        ['event', '-name=bad', '-service=['],
        'Failed to compile service filter regexp: error parsing regexp: missing closing ]: `[`\n',
      ],
      [
        ['event', '-name=bad', '-service=web', '-tag=*'],
        'Failed to compile tag filter regexp: error parsing regexp: missing argument to repetition operator: `*`\n',
      ],
      // Go's RE2 has no lookahead, so a pattern JavaScript would take is refused as Consul refuses it.
      [
        ['event', '-name=bad', '-node=a(?=b)'],
        'Failed to compile node filter regexp: error parsing regexp: invalid or unsupported Perl syntax: `(?=`\n',
      ],
      [['event', '-name=bad', '-tag=v1'], 'Cannot provide tag filter without service filter.\n'],
      [['event', '-name=bad', 'one', 'two'], /^Too many command line arguments\.\n\nUsage: tribune event /],
      [['event', '-nope'], /^flag provided but not defined: -nope\n\nUsage: tribune event /],
    ];
    for (const [args, stderr] of cases) {
      const result = await cli(args);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(result.stdout, '', args.join(' '));
      if (typeof stderr === 'string') assert.equal(result.stderr, stderr, args.join(' '));
      else assert.match(result.stderr, stderr, args.join(' '));
    }
    assert.deepEqual(await events(a, 'bad'), []);
  });

  test('event against an agent that is not there fails querying it', async () => {
    const result = await runCli(['event', '-name=deploy'], { addr: `${randomLoopback()}:18500` });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^Error querying Consul agent: Get "http:\/\/[\d.]+:18500\/v1\/agent\/self": dial tcp [\d.]+:18500: connect: connection refused\n$/,
    );
  });

  test('force-leave of a failed member makes it left, and -prune removes it', async () => {
    const c = await startDevAgent();
    try {
      const joined = await cli(['join', c.host]);
      assert.equal(joined.code, 0, joined.stderr);
      await eventually('the third agent is alive on a', async () =>
        (await statusOf(a, nodeName(c))) === ALIVE ? true : undefined,
      );
    } finally {
      await c.kill();
    }
    await eventually(
      'the killed agent is failed on a',
      async () => ((await statusOf(a, nodeName(c))) === FAILED ? true : undefined),
      60_000,
    );

    const result = await cli(['force-leave', nodeName(c)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, '');
    await eventually('left on both agents', async () =>
      (await statusOf(a, nodeName(c))) === LEFT && (await statusOf(b, nodeName(c))) === LEFT
        ? true
        : undefined,
    );

    const pruned = await cli(['force-leave', '-prune', nodeName(c)]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal(pruned.stdout, '');
    await eventually('pruned from the member list', async () =>
      (await statusOf(a, nodeName(c))) === undefined ? true : undefined,
    );
  });
});

describe('what the gossip commands send', () => {
  let server: Server;
  let addr: string;
  const requests: { method: string; url: string; body: string; type: string | undefined }[] = [];

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        requests.push({
          method: req.method!,
          url: req.url!,
          body: Buffer.concat(chunks).toString('utf8'),
          type: req.headers['content-type'],
        });
        res.setHeader('Content-Type', 'application/json');
        if (req.url === '/v1/agent/self') res.end(JSON.stringify({ Config: { NodeName: 'recorder' } }));
        else if (req.url!.startsWith('/v1/event/fire/')) res.end(JSON.stringify({ ID: 'the-id' }));
        else res.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const recorded = async (args: string[]) => {
    requests.length = 0;
    const result = await runCli(args, { addr });
    assert.equal(result.code, 0, result.stderr);
    return {
      stdout: result.stdout,
      requests: requests.map(({ method, url, body }) => ({ method, url, body })),
    };
  };

  test('join -wan asks for the WAN pool, once per address', async () => {
    const { stdout, requests: sent } = await recorded(['join', '-wan', '10.0.0.1', '[::1]:8302']);
    assert.equal(stdout, 'Successfully joined cluster by contacting 2 nodes.\n');
    assert.deepEqual(sent, [
      { method: 'PUT', url: '/v1/agent/join/10.0.0.1?wan=1', body: '' },
      { method: 'PUT', url: '/v1/agent/join/%5B%3A%3A1%5D%3A8302?wan=1', body: '' },
    ]);
  });

  test('force-leave -prune -wan', async () => {
    assert.deepEqual((await recorded(['force-leave', 'n1'])).requests, [
      { method: 'PUT', url: '/v1/agent/force-leave/n1', body: '' },
    ]);
    assert.deepEqual((await recorded(['force-leave', '-prune', '-wan', 'n1'])).requests, [
      { method: 'PUT', url: '/v1/agent/force-leave/n1?prune=1&wan=1', body: '' },
    ]);
  });

  test('event sends its filters as query parameters and the payload as the body', async () => {
    const { stdout, requests: sent } = await recorded([
      'event',
      '-name=deploy',
      '-node=^web',
      '-service=api',
      '-tag=v[0-9]',
      'the payload',
    ]);
    assert.equal(stdout, 'Event ID: the-id\n');
    assert.deepEqual(sent, [
      { method: 'GET', url: '/v1/agent/self', body: '' },
      {
        method: 'PUT',
        url: '/v1/event/fire/deploy?node=%5Eweb&service=api&tag=v%5B0-9%5D',
        body: 'the payload',
      },
    ]);
  });
});

describe('keygen and usage errors', () => {
  test('keygen prints a new random 32-byte key, base64-encoded, without an agent', async () => {
    const keys = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const result = await runCli(['keygen'], { addr: `${randomLoopback()}:18500` });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
      const key = result.stdout.trim();
      assert.equal(Buffer.from(key, 'base64').length, 32);
      assert.equal(Buffer.from(key, 'base64').toString('base64'), key);
      keys.add(key);
    }
    assert.equal(keys.size, 2);
  });

  test('missing or extra arguments print the message and the help, exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['join'],
        /^At least one address to join must be specified\.\n\nUsage: tribune join \[options\] address \.\.\.\n/,
      ],
      [['join', '-wan'], /^At least one address to join must be specified\.\n\nUsage: tribune join /],
      [
        ['force-leave'],
        /^A single node name must be specified to force leave\.\n\nUsage: tribune force-leave \[options\] name\n/,
      ],
      [['force-leave', 'a', 'b'], /^A single node name must be specified to force leave\.\n\nUsage: /],
      [['keygen', '-bytes=16'], /^flag provided but not defined: -bytes\n\nUsage: tribune keygen\n/],
      [['join', '-nope', 'x'], /^flag provided but not defined: -nope\n\nUsage: tribune join /],
    ];
    for (const [args, stderr] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(result.stdout, '', args.join(' '));
      assert.match(result.stderr, stderr, args.join(' '));
    }
  });

  test('help shows the command options, and the command list names the new commands', async () => {
    const help = await runCli(['force-leave', '-h']);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /\nCommand Options\n\n {2}-prune\n {5}Remove agent completely from list of members\n/,
    );
    const list = await runCli([]);
    for (const line of [
      /\n {4}event +Fire a new event\n/,
      /\n {4}force-leave +Forces a member of the cluster to enter the "left" state\n/,
      /\n {4}join +Tell Consul agent to join cluster\n/,
      /\n {4}keygen +Generates a new encryption key\n/,
    ]) {
      assert.match(list.stderr, line);
    }
  });
});
