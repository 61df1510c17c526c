import { Agent } from './agent.ts';
import type { AgentConfig } from './config.ts';
import { createLogger } from './logging.ts';
import { TRIBUNE_VERSION } from './version.ts';

/** Runs an agent in the foreground until it leaves or gets SIGINT/SIGTERM; resolves when it has shut down. */
export async function runAgent(config: AgentConfig): Promise<void> {
  const log = createLogger(config.logLevel, config.logJson);
  const agent = new Agent(config, log);
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'caught signal, shutting down');
    void agent.stop();
  };
  const onHangup = () => {
    agent
      .reload()
      .catch((err: unknown) => log.error({ err }, 'reload failed; keeping the current configuration'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('SIGHUP', onHangup);
  try {
    await agent.start();
  } catch (err) {
    await agent.stop();
    throw err;
  }
  if (!config.logJson) printBanner(config, agent);
  await agent.stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onHangup);
}

function printBanner(config: AgentConfig, agent: Agent): void {
  const rows: [string, string][] = [
    ['Version', `'${TRIBUNE_VERSION}'`],
    ['Node ID', `'${agent.nodeId}'`],
    ['Node name', `'${config.nodeName}'`],
    ['Datacenter', `'${config.datacenter}'`],
    ['Server', serverDescription(config)],
    ['Client Addr', `[${config.clientAddr}] (HTTP: ${agent.httpAddress.split(':').pop()})`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 10;
  process.stdout.write('==> Tribune agent running!\n');
  for (const [label, value] of rows) process.stdout.write(`${label.padStart(width)}: ${value}\n`);
  process.stdout.write('\n==> Log data will now stream in as it occurs:\n\n');
}

function serverDescription(config: AgentConfig): string {
  if (config.dev) return 'true (Bootstrap: true, dev mode, in memory)';
  if (!config.server) return 'false';
  const bootstrap = config.bootstrap
    ? 'true'
    : config.bootstrapExpect > 0
      ? `expect ${config.bootstrapExpect}`
      : 'false';
  return `true (Bootstrap: ${bootstrap}, data dir: ${config.dataDir})`;
}
