import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api } from '../helpers/http.ts';

// /v1/operator on the dev agent, a one-server cluster: Consul's shapes and errors. The multi-server behaviour
// is covered by the cluster tests.

let agent: DevAgent;
before(async () => {
  agent = await startDevAgent();
});
after(() => agent.stop());

interface RaftServer {
  ID: string;
  Node: string;
  Address: string;
  Leader: boolean;
  Voter: boolean;
  ProtocolVersion: string;
  LastIndex: number;
}

describe('operator endpoints on the dev agent', () => {
  test('raft configuration lists this server as the leading voter, named as in the catalog', async () => {
    const self = (await api(agent.httpAddr, 'GET', '/v1/agent/self')).json<{
      Config: { NodeName: string; NodeID: string };
    }>();
    const res = await api(agent.httpAddr, 'GET', '/v1/operator/raft/configuration');
    assert.equal(res.status, 200);
    const body = res.json<{ Servers: RaftServer[]; Index: number }>();
    assert.equal(body.Servers.length, 1);
    const [server] = body.Servers;
    assert.equal(server!.ID, self.Config.NodeID);
    assert.equal(server!.Node, self.Config.NodeName);
    assert.equal(server!.Leader, true);
    assert.equal(server!.Voter, true);
    assert.equal(server!.ProtocolVersion, '3');
    assert.ok(server!.LastIndex > 0);
    const leader = (await api(agent.httpAddr, 'GET', '/v1/status/leader')).json<string>();
    assert.equal(server!.Address, leader);
  });

  test('autopilot health reports one healthy voter with no failure tolerance', async () => {
    const res = await api(agent.httpAddr, 'GET', '/v1/operator/autopilot/health');
    assert.equal(res.status, 200);
    const body = res.json<{
      Healthy: boolean;
      FailureTolerance: number;
      Servers: { Healthy: boolean; LastContact: string; SerfStatus: string; StableSince: string }[];
    }>();
    assert.equal(body.Healthy, true);
    assert.equal(body.FailureTolerance, 0);
    assert.equal(body.Servers[0]!.LastContact, '0s');
    assert.equal(body.Servers[0]!.SerfStatus, 'alive');
    assert.match(body.Servers[0]!.StableSince, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('removing a peer needs ?id or ?address, and an unknown one is an error', async () => {
    const missing = await api(agent.httpAddr, 'DELETE', '/v1/operator/raft/peer');
    assert.equal(missing.status, 400);
    assert.match(missing.text, /^Must specify either \?id/);
    const unknown = await api(agent.httpAddr, 'DELETE', '/v1/operator/raft/peer?address=10.9.9.9:8300');
    assert.equal(unknown.status, 500);
    assert.equal(unknown.text, 'address "10.9.9.9:8300" was not found in the Raft configuration');
  });

  test('transfer-leader is POST-only and fails without another voter', async () => {
    assert.equal((await api(agent.httpAddr, 'GET', '/v1/operator/raft/transfer-leader')).status, 405);
    const res = await api(agent.httpAddr, 'POST', '/v1/operator/raft/transfer-leader');
    assert.equal(res.status, 500);
    assert.equal(res.text, 'cannot find peer');
  });
});
