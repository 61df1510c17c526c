import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DevAgent, startDevAgent } from '../helpers/dev-agent.ts';
import { api, eventually } from '../helpers/http.ts';

// -config-file and -config-dir with JSON and HCL: agent options, services and checks from files, reloads
// through the API and SIGHUP, and clear errors for bad files.

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tribune-config-'));
const confDir = join(dir, 'conf.d');
const hclFile = join(dir, 'agent.hcl');

const HCL = `
datacenter = "dc-files"
node_meta {
  rack = "r7"
}
service {
  name = "web"
  port = 8080
  tags = ["v1"]
  check {
    id  = "web-ttl"
    name = "web alive"
    ttl = "30s"
    status = "passing"
  }
}
`;

const writeJson = (name: string, value: unknown) => writeFileSync(join(confDir, name), JSON.stringify(value));

let agent: DevAgent;
before(async () => {
  rmSync(confDir, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', confDir]);
  writeFileSync(hclFile, HCL);
  writeJson('10-db.json', { services: [{ name: 'db', port: 5432, enable_tag_override: true }] });
  writeJson('20-check.json', { check: { id: 'disk', name: 'Disk', ttl: '1m' } });
  agent = await startDevAgent(['-config-file', hclFile, '-config-dir', confDir]);
});
after(async () => {
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });
});

const services = async () =>
  (await api(agent.httpAddr, 'GET', '/v1/agent/services')).json<Record<string, Record<string, unknown>>>();
const checks = async () =>
  (await api(agent.httpAddr, 'GET', '/v1/agent/checks')).json<Record<string, Record<string, unknown>>>();

describe('config files', () => {
  test('agent options come from the files', async () => {
    const self = (await api(agent.httpAddr, 'GET', '/v1/agent/self')).json<{
      Config: { Datacenter: string };
      Meta: Record<string, string>;
    }>();
    assert.equal(self.Config.Datacenter, 'dc-files');
    assert.equal(self.Meta.rack, 'r7');
  });

  test('services and checks from HCL and JSON are registered, in the catalog too', async () => {
    const all = await services();
    assert.deepEqual(Object.keys(all).sort(), ['db', 'web']);
    assert.equal(all.web!.Port, 8080);
    assert.deepEqual(all.web!.Tags, ['v1']);
    assert.equal(all.db!.EnableTagOverride, true);
    const own = await checks();
    assert.equal(own['web-ttl']!.Status, 'passing');
    assert.equal(own['web-ttl']!.ServiceID, 'web');
    assert.equal(own.disk!.Status, 'critical');
    const health = (await api(agent.httpAddr, 'GET', '/v1/health/service/web')).json<
      { Checks: { CheckID: string; Status: string }[] }[]
    >();
    assert.equal(health.length, 1);
    assert.ok(health[0]!.Checks.some((c) => c.CheckID === 'web-ttl' && c.Status === 'passing'));
  });

  test('a reload brings services in line with the files; API registrations stay', async () => {
    const put = await api(agent.httpAddr, 'PUT', '/v1/agent/service/register', { Name: 'by-api' });
    assert.equal(put.status, 200);
    rmSync(join(confDir, '10-db.json'));
    writeJson('30-cache.json', { service: { name: 'cache', port: 6379 } });
    assert.equal((await api(agent.httpAddr, 'PUT', '/v1/agent/reload')).status, 200);
    assert.deepEqual(Object.keys(await services()).sort(), ['by-api', 'cache', 'web']);
  });

  test('SIGHUP reloads too', async () => {
    writeJson('40-queue.json', { service: { name: 'queue' } });
    agent.process.kill('SIGHUP');
    await eventually('the queue service after SIGHUP', async () =>
      (await services()).queue ? true : undefined,
    );
  });

  test('a reload with a broken file fails and changes nothing', async () => {
    writeFileSync(join(confDir, '50-broken.json'), '{"service": ');
    const res = await api(agent.httpAddr, 'PUT', '/v1/agent/reload');
    assert.equal(res.status, 500);
    assert.match(res.text, /50-broken\.json/);
    assert.deepEqual(Object.keys(await services()).sort(), ['by-api', 'cache', 'queue', 'web']);
    rmSync(join(confDir, '50-broken.json'));
  });
});

describe('bad config files stop the agent with a clear error', () => {
  const run = (file: string, text: string) => {
    const path = join(dir, file);
    writeFileSync(path, text);
    return spawnSync(
      process.execPath,
      ['--import', 'tsx', MAIN, 'agent', '-dev', '-http-port', '0', '-config-file', path],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
  };

  test('an unknown key', () => {
    const result = run('unknown.json', '{"datacentre": "x"}');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /invalid config key datacentre/);
  });

  test('HCL that does not parse', () => {
    const result = run('bad.hcl', 'service {');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Error parsing .*bad\.hcl/);
  });

  test('a service definition with a bad field', () => {
    const result = run('bad-service.json', '{"service": {"name": "x", "port": "eighty"}}');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /bad-service\.json: Port/);
  });
});
