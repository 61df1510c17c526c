import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { peerTable } from '../../src/cli/commands/operator-raft-list-peers.ts';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api } from '../helpers/http.ts';
import { ok, runCli } from './run-cli.ts';

// `tribune operator raft ...` against a real dev agent (a one-server cluster), plus a recorder standing in for
// a larger cluster, asserting Consul's output, messages and exit codes.

const HEADER = [
  'Node',
  'ID',
  'Address',
  'State',
  'Voter',
  'RaftProtocol',
  'Commit Index',
  'Trails Leader By',
];

/** Splits a columnized table, checking every column starts at the same offset on every line. */
function parseTable(text: string): string[][] {
  const lines = text.replace(/\n$/, '').split('\n');
  const header = lines[0]!;
  const starts = HEADER.map((name) => header.indexOf(name));
  assert.deepEqual(
    starts.map((start, i) => (i === 0 ? start : header[start - 1] === ' ' && header[start - 2] === ' ')),
    [0, true, true, true, true, true, true, true],
    header,
  );
  return lines.map((line) =>
    starts.map((start, i) => {
      if (i > 0) assert.match(line.slice(start - 2, start), /^ {2}$/, line);
      return line.slice(start, starts[i + 1] ?? line.length).trimEnd();
    }),
  );
}

describe('operator raft against the dev agent', () => {
  let agent: DevAgent;
  const cli = (args: string[]) => runCli(['operator', 'raft', ...args], { addr: agent.httpAddr });

  before(async () => {
    agent = await startDevAgent();
  });
  after(() => agent?.stop());

  test('list-peers shows the one server as the leading voter', async () => {
    const self = (await api(agent.httpAddr, 'GET', '/v1/agent/self')).json<{
      Config: { NodeName: string; NodeID: string };
    }>();
    const leader = (await api(agent.httpAddr, 'GET', '/v1/status/leader')).json<string>();
    const [header, ...rows] = parseTable(
      await ok(['operator', 'raft', 'list-peers'], { addr: agent.httpAddr }),
    );
    assert.deepEqual(header, HEADER);
    assert.equal(rows.length, 1);
    const [node, id, address, state, voter, protocol, commitIndex, trails] = rows[0]!;
    assert.deepEqual(
      [node, id, address, state, voter, protocol, trails],
      [self.Config.NodeName, self.Config.NodeID, leader, 'leader', 'true', '3', '-'],
    );
    assert.match(commitIndex!, /^[1-9]\d*$/);

    // -stale is accepted and gives the same answer on a single server.
    const stale = await cli(['list-peers', '-stale']);
    assert.equal(stale.code, 0, stale.stderr);
    assert.equal(parseTable(stale.stdout)[1]![1], self.Config.NodeID);
  });

  test('remove-peer of an unknown address or id fails with the server error', async () => {
    const byAddress = await cli(['remove-peer', '-address=10.9.9.9:8300']);
    assert.equal(byAddress.code, 1);
    assert.equal(byAddress.stdout, '');
    assert.equal(
      byAddress.stderr,
      'Error removing peer: Unexpected response code: 500 (address "10.9.9.9:8300" was not found in the Raft configuration)\n',
    );
    const byId = await cli(['remove-peer', '-id', 'no-such-server']);
    assert.equal(byId.code, 1);
    assert.equal(
      byId.stderr,
      'Error removing peer: Unexpected response code: 500 (id "no-such-server" was not found in the Raft configuration)\n',
    );
  });

  test('remove-peer needs exactly one of -id and -address', async () => {
    const neither = await cli(['remove-peer']);
    assert.equal(neither.code, 1);
    assert.equal(
      neither.stderr,
      'Error removing peer: an address or id is required for the peer to remove\n',
    );
    const both = await cli(['remove-peer', '-id=a', '-address=10.0.0.1:8300']);
    assert.equal(both.code, 1);
    assert.equal(both.stderr, 'Error removing peer: cannot give both an address and id\n');
  });

  test('transfer-leader fails on a one-server cluster: there is no peer to hand over to', async () => {
    for (const args of [['transfer-leader'], ['transfer-leader', '-id=other']]) {
      const result = await cli(args);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr,
        'Error transfering leadership: Failed to transfer leadership Unexpected response code: 500 (cannot find peer)\n',
      );
    }
  });
});

describe('operator raft usage', () => {
  test('the groups list their subcommands; without one they exit 1, with -h 0', async () => {
    const raft = await runCli(['operator', 'raft']);
    assert.equal(raft.code, 1);
    assert.match(raft.stderr, /^Usage: tribune operator raft <subcommand> \[options\]\n/);
    assert.match(
      raft.stderr,
      /\nSubcommands:\n {4}list-peers {9}Display the current Raft peer configuration\n/,
    );
    assert.match(raft.stderr, /\n {4}remove-peer {8}Remove a Consul server from the Raft configuration\n/);
    assert.match(raft.stderr, /\n {4}transfer-leader {4}Transfer raft leadership to another node\n$/);
    const help = await runCli(['operator', 'raft', '-h']);
    assert.equal(help.code, 0);
    assert.equal(help.stdout, raft.stderr);

    const operator = await runCli(['operator']);
    assert.equal(operator.code, 1);
    assert.match(operator.stderr, /^Usage: tribune operator <subcommand> \[options\]\n/);
    assert.match(operator.stderr, /\nSubcommands:\n {4}raft {4}/);
  });

  test('help lists the flags; unknown flags exit 1 with usage', async () => {
    const help = await runCli(['operator', 'raft', 'remove-peer', '-h']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tribune operator raft remove-peer \[options\]\n/);
    assert.match(help.stdout, /\n {2}-address=<string>\n/);
    assert.match(help.stdout, /\n {2}-id=<string>\n/);
    assert.match(help.stdout, /\n {2}-stale\n/);

    const unknown = await runCli(['operator', 'raft', 'list-peers', '-bogus']);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^flag provided but not defined: -bogus\n\nUsage: tribune operator raft list-peers /,
    );
    const noValue = await runCli(['operator', 'raft', 'transfer-leader', '-id']);
    assert.equal(noValue.code, 1);
    assert.match(noValue.stderr, /^flag needs an argument: -id\n/);
  });
});

describe('operator raft against a recorded cluster', () => {
  // A recorder standing in for a three-server cluster, which the dev agent cannot be.
  let server: Server;
  let addr: string;
  let requests: IncomingMessage[] = [];
  let reply: { status: number; body: string } = { status: 200, body: '' };

  before(async () => {
    server = createServer((req, res) => {
      requests.push(req);
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(reply.body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  const lastUrl = () => new URL(requests.at(-1)!.url!, 'http://x');

  test('list-peers shows how far each follower trails the leader', async () => {
    const servers = [
      { ID: 'id-a', Node: 'alice', Address: '10.0.0.1:8300', Leader: false, Voter: true, LastIndex: 1167 },
      { ID: 'id-b', Node: 'bob', Address: '10.0.0.2:8300', Leader: true, Voter: true, LastIndex: 1167 },
      { ID: 'id-c', Node: 'carol', Address: '10.0.0.3:8300', Leader: false, Voter: false, LastIndex: 1159 },
      { ID: 'id-d', Node: 'dave', Address: '10.0.0.4:8300', Leader: false, Voter: true, LastIndex: 1166 },
    ].map((s) => ({ ...s, ProtocolVersion: '3' }));
    reply = { status: 200, body: JSON.stringify({ Servers: servers, Index: 12 }) };
    requests = [];
    const out = await ok(['operator', 'raft', 'list-peers', '-stale'], { addr });
    assert.equal(requests[0]!.method, 'GET');
    assert.equal(lastUrl().pathname, '/v1/operator/raft/configuration');
    assert.ok(lastUrl().searchParams.has('stale'));
    assert.equal(
      out,
      [
        'Node   ID    Address        State     Voter  RaftProtocol  Commit Index  Trails Leader By',
        'alice  id-a  10.0.0.1:8300  follower  true   3             1167          0 commits',
        'bob    id-b  10.0.0.2:8300  leader    true   3             1167          -',
        'carol  id-c  10.0.0.3:8300  follower  false  3             1159          8 commits',
        'dave   id-d  10.0.0.4:8300  follower  true   3             1166          1 commit',
        '',
      ].join('\n'),
    );
  });

  test('remove-peer sends DELETE with ?id or ?address and reports what it removed', async () => {
    reply = { status: 200, body: '' };
    requests = [];
    assert.equal(
      await ok(['operator', 'raft', 'remove-peer', '-id=4f1a'], { addr }),
      'Removed peer with id "4f1a"\n',
    );
    assert.equal(requests[0]!.method, 'DELETE');
    assert.equal(lastUrl().pathname, '/v1/operator/raft/peer');
    assert.equal(lastUrl().searchParams.get('id'), '4f1a');
    assert.equal(
      await ok(['operator', 'raft', 'remove-peer', '-address', '10.0.0.3:8300'], { addr }),
      'Removed peer with address "10.0.0.3:8300"\n',
    );
    assert.equal(lastUrl().searchParams.get('address'), '10.0.0.3:8300');
    assert.equal(lastUrl().searchParams.has('id'), false);
  });

  test('transfer-leader POSTs, with ?id when given, and prints Success', async () => {
    reply = { status: 200, body: '{"Success":true}' };
    requests = [];
    assert.equal(await ok(['operator', 'raft', 'transfer-leader'], { addr }), 'Success\n');
    assert.equal(requests[0]!.method, 'POST');
    assert.equal(lastUrl().pathname, '/v1/operator/raft/transfer-leader');
    assert.equal(lastUrl().searchParams.has('id'), false);
    await ok(['operator', 'raft', 'transfer-leader', '-id=id-c'], { addr });
    assert.equal(lastUrl().searchParams.get('id'), 'id-c');

    reply = { status: 200, body: '{"Success":false}' };
    const refused = await runCli(['operator', 'raft', 'transfer-leader'], { addr });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, 'Error transfering leadership: Failed to transfer leadership\n');
  });

  test('list-peers reports a failed read as Consul does', async () => {
    reply = { status: 500, body: 'No cluster leader' };
    const failed = await runCli(['operator', 'raft', 'list-peers'], { addr });
    assert.equal(failed.code, 1);
    assert.equal(
      failed.stderr,
      'Error getting peers: Failed to retrieve raft configuration: Unexpected response code: 500 (No cluster leader)\n',
    );
  });
});

describe('list-peers table', () => {
  const server = (id: string, leader: boolean, lastIndex: number, protocol = '3') => ({
    ID: id,
    Node: id,
    Address: `${id}:8300`,
    Leader: leader,
    ProtocolVersion: protocol,
    Voter: true,
    LastIndex: lastIndex,
  });

  test('without a leader, trailing counts wrap as Go uint64 arithmetic does', () => {
    const rows = peerTable({ Servers: [server('a', false, 5)], Index: 1 }).split('\n');
    assert.match(rows[1]!, / 18446744073709551611 commits$/);
  });

  test('an empty protocol version shows as <=1', () => {
    const rows = peerTable({ Servers: [server('a', true, 5, '')], Index: 1 }).split('\n');
    assert.deepEqual(rows[1]!.split(/ {2,}/), ['a', 'a', 'a:8300', 'leader', 'true', '<=1', '5', '-']);
  });
});
