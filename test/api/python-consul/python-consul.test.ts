import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDevAgent } from '../../helpers/dev-agent.ts';
import { DEBIAN_PYTHON, pythonConsulMissing } from '../../helpers/peers.ts';

// Drives every endpoint family through Debian's real python3-consul (0.7.x) against a real dev agent. Each
// scenario under scenarios/ is a Python script taking the agent's host:port; it asserts with plain `assert`,
// writes failures with tracebacks to stderr and ends stdout with a JSON summary line. Every scenario gets its
// own agent, so scenarios cannot see each other's registrations, and up to three run at once.

const SCENARIOS = ['kv', 'catalog', 'health', 'agent', 'session', 'status'] as const;
const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));
const SCENARIO_TIMEOUT_MS = 120_000;

interface Summary {
  scenario: string;
  python_consul: string;
  steps: number;
  passed: string[];
  failed: string[];
}

interface ScenarioRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment for python-consul: none of its CONSUL_HTTP_* overrides, no proxy in front of loopback. */
function scenarioEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('CONSUL_') || /^(http|https|all|no)_proxy$/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, NO_PROXY: '*', no_proxy: '*', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
}

function runScenario(name: string, httpAddr: string): Promise<ScenarioRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, [`${SCENARIO_DIR}${name}.py`, httpAddr], {
      cwd: SCENARIO_DIR,
      env: scenarioEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n[driver] ${name}.py did not finish within ${SCENARIO_TIMEOUT_MS} ms; killed\n`;
      child.kill('SIGKILL');
    }, SCENARIO_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function parseSummary(stdout: string): Summary | undefined {
  const last = stdout.trimEnd().split('\n').at(-1);
  if (!last) return undefined;
  try {
    return JSON.parse(last) as Summary;
  } catch {
    return undefined;
  }
}

describe('python-consul against a dev agent', { skip: pythonConsulMissing(), concurrency: 3 }, () => {
  for (const name of SCENARIOS) {
    test(name, { timeout: SCENARIO_TIMEOUT_MS + 30_000 }, async (t) => {
      const agent = await startDevAgent();
      let run: ScenarioRun;
      try {
        run = await runScenario(name, agent.httpAddr);
      } finally {
        await agent.stop();
      }
      const summary = parseSummary(run.stdout);
      if (summary) {
        t.diagnostic(
          `${name}: ${summary.passed.length}/${summary.steps} steps passed (python-consul ${summary.python_consul})`,
        );
      }
      if (run.code !== 0) {
        const failedSteps = summary ? `failed steps: ${summary.failed.join(', ')}\n` : 'no summary line\n';
        assert.fail(
          `${name}.py exited with ${run.code ?? run.signal}\n${failedSteps}--- stderr ---\n${run.stderr}` +
            `--- stdout ---\n${run.stdout}`,
        );
      }
      assert.ok(summary, `${name}.py exited 0 without a JSON summary line:\n${run.stdout}\n${run.stderr}`);
      assert.equal(summary.scenario, name);
      assert.ok(summary.steps > 0, `${name}.py ran no steps`);
      assert.deepEqual(summary.failed, []);
      assert.equal(summary.passed.length, summary.steps, `${name}.py: every step should have passed`);
    });
  }
});
