import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Consul from 'consul';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api } from '../helpers/http.ts';

// Prepared queries through the npm consul client and raw HTTP against a dev agent: CRUD, execution with
// health, tag and meta filters, templates (name prefix, regexp), a session that takes its query with it,
// and Consul's errors.

interface ExecuteResponse {
  Service: string;
  Nodes: { Service: { ID: string; Tags: string[] } }[];
  DNS: { TTL: string };
  Datacenter: string;
}

let agent: DevAgent;
let consul: Consul;
before(async () => {
  agent = await startDevAgent();
  consul = new Consul({ host: agent.host, port: agent.port });
  for (const [id, tags, status] of [
    ['redis-1', ['primary', 'v1'], 'passing'],
    ['redis-2', ['replica', 'v1'], 'passing'],
    ['redis-3', ['replica', 'v2'], 'warning'],
    ['redis-4', ['replica'], 'critical'],
  ] as const) {
    await register({ Name: 'redis', ID: id, Tags: [...tags], Check: { TTL: '5m', Status: status } });
  }
  await register({ Name: 'geo-db-eu', Check: { TTL: '5m', Status: 'passing' } });
});
after(() => agent.stop());

async function register(body: object) {
  const res = await api(agent.httpAddr, 'PUT', '/v1/agent/service/register', body);
  assert.equal(res.status, 200, res.text);
}

/** Bodies in the client's camelCase: the agent matches keys case-insensitively, as Consul does. */
const createQuery = async (body: object) =>
  (await api(agent.httpAddr, 'POST', '/v1/query', body)).json<{ ID: string }>();

const getQuery = async (id: string) =>
  (await api(agent.httpAddr, 'GET', `/v1/query/${id}`)).json<
    { Name: string; Service: { Service: string; OnlyPassing: boolean }; DNS: { TTL: string } }[]
  >();

const ids = (response: ExecuteResponse) => response.Nodes.map((n) => n.Service.ID).sort();

describe('prepared queries', () => {
  let queryId = '';

  test('create, read, list, update and delete', async () => {
    const created = (await createQuery({ name: 'redis-any', service: { service: 'redis' } })) as {
      ID: string;
    };
    queryId = created.ID;
    const [read] = await getQuery(queryId);
    assert.equal(read!.Name, 'redis-any');
    assert.equal(read!.Service.Service, 'redis');
    const listed = (await consul.query.list()) as { ID: string }[];
    assert.ok(listed.some((q) => q.ID === queryId));
    const update = await api(agent.httpAddr, 'PUT', `/v1/query/${queryId}`, {
      Name: 'redis-any',
      Service: { Service: 'redis', OnlyPassing: true },
      DNS: { TTL: '10s' },
    });
    assert.equal(update.status, 200, update.text);
    const [updated] = await getQuery(queryId);
    assert.equal(updated!.Service.OnlyPassing, true);
    assert.equal(updated!.DNS.TTL, '10s');
  });

  test('execute returns healthy instances; OnlyPassing hides warnings; by name or ID', async () => {
    const byId = (await consul.query.execute(queryId)) as ExecuteResponse;
    assert.deepEqual(ids(byId), ['redis-1', 'redis-2']);
    assert.equal(byId.DNS.TTL, '10s');
    assert.equal(byId.Datacenter, 'dc1');
    const lenient = (await createQuery({ name: 'redis-lenient', service: { service: 'redis' } })) as {
      ID: string;
    };
    const byName = (await consul.query.execute('redis-lenient')) as ExecuteResponse;
    assert.deepEqual(ids(byName), ['redis-1', 'redis-2', 'redis-3'], 'critical is hidden, warning kept');
    await api(agent.httpAddr, 'DELETE', `/v1/query/${lenient.ID}`);
  });

  test('tags select and !tags exclude', async () => {
    await createQuery({
      name: 'replicas-v1',
      service: { service: 'redis', tags: ['replica', '!v2'] },
    });
    assert.deepEqual(ids((await consul.query.execute('replicas-v1')) as ExecuteResponse), ['redis-2']);
  });

  test('a name-prefix template with a regexp renders the service from the name asked for', async () => {
    await createQuery({
      name: 'geo-db-',
      template: { type: 'name_prefix_match', regexp: '^geo-db-(.*)$' },
      service: { service: 'geo-db-${match(1)}' },
    });
    const eu = (await consul.query.execute('geo-db-eu')) as ExecuteResponse;
    assert.equal(eu.Service, 'geo-db-eu');
    assert.equal(eu.Nodes.length, 1);
    const explained = (await api(agent.httpAddr, 'GET', '/v1/query/geo-db-us/explain')).json<{
      Query: { Service: { Service: string } };
    }>();
    assert.equal(explained.Query.Service.Service, 'geo-db-us');
  });

  test('a query bound to a session goes when the session does', async () => {
    const session = (await consul.session.create({ ttl: '30s' })) as { ID: string };
    const bound = (await createQuery({
      name: 'bound',
      session: session.ID,
      service: { service: 'redis' },
    })) as {
      ID: string;
    };
    await consul.session.destroy(session.ID);
    const res = await api(agent.httpAddr, 'GET', `/v1/query/${bound.ID}`);
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Query not found');
  });

  test("Consul's errors", async () => {
    const noService = await api(agent.httpAddr, 'POST', '/v1/query', { Name: 'x' });
    assert.equal(noService.status, 500);
    assert.equal(noService.text, 'Must provide a Service name to query');
    const duplicate = await api(agent.httpAddr, 'POST', '/v1/query', {
      Name: 'redis-any',
      Service: { Service: 'redis' },
    });
    assert.equal(duplicate.status, 500);
    assert.equal(duplicate.text, "name 'redis-any' aliases an existing query name");
    const badTemplate = await api(agent.httpAddr, 'POST', '/v1/query', {
      Template: { Type: 'regexp_everything' },
      Service: { Service: 'x' },
    });
    assert.equal(badTemplate.text, "Bad Template.Type 'regexp_everything'");
    const badSession = await api(agent.httpAddr, 'POST', '/v1/query', {
      Session: 'nope',
      Service: { Service: 'x' },
    });
    assert.equal(badSession.text, 'invalid session "nope"');
    assert.equal((await api(agent.httpAddr, 'GET', '/v1/query/nothing-like-it/execute')).status, 404);
    const deleteMissing = await api(
      agent.httpAddr,
      'DELETE',
      '/v1/query/00000000-0000-4000-8000-000000000000',
    );
    assert.equal(deleteMissing.status, 500);
  });
});
