import { hostname } from 'node:os';
import { type AgentConfig, type AgentConfigInput, validatedAgentConfigSchema } from '../../agent/config.ts';
import { type ConfigFileContents, loadConfigFiles } from '../../agent/config-files.ts';
import { defineCommand, fail } from '../command.ts';
import { boolFlag, intFlag, listFlag, stringFlag } from '../flags.ts';

const flags = {
  advertise: stringFlag('advertise', 'Address other agents should use to reach this one.'),
  bind: stringFlag('bind', 'Address to bind cluster (gossip and server RPC) listeners to.'),
  bootstrap: boolFlag('bootstrap', 'Bootstrap a Raft cluster of this server alone.'),
  bootstrapExpect: intFlag(
    'bootstrap-expect',
    'Number of servers to wait for before bootstrapping the cluster.',
  ),
  client: stringFlag('client', 'Address to bind client listeners (HTTP, DNS) to.'),
  configDir: listFlag(
    'config-dir',
    'Directory of *.json and *.hcl config files, read in order; may be repeated.',
  ),
  configFile: listFlag('config-file', 'A JSON or HCL config file; may be repeated.'),
  dataDir: stringFlag('data-dir', '`Path` to a directory for the agent to keep its state in.'),
  datacenter: stringFlag('datacenter', 'Datacenter the agent belongs to.'),
  domain: stringFlag('domain', 'DNS domain the agent answers for (default "consul").'),
  altDomain: stringFlag('alt-domain', 'A second DNS domain answered like -domain.'),
  recursor: listFlag(
    'recursor',
    'Upstream DNS server (`host[:port]`) for names outside the domain; may be repeated.',
  ),
  dev: boolFlag('dev', 'Start a development server: in-memory state, everything on 127.0.0.1.'),
  encrypt: stringFlag('encrypt', 'Base64 gossip encryption key (16, 24 or 32 bytes; see tribune keygen).'),
  enableScriptChecks: boolFlag('enable-script-checks', 'Allow checks that run scripts (Args) on this agent.'),
  dnsPort: intFlag('dns-port', 'DNS port to listen on; -1 disables DNS.'),
  grpcPort: intFlag('grpc-port', 'gRPC (xDS) port to listen on; -1 disables it.'),
  httpPort: intFlag('http-port', 'HTTP API port to listen on.'),
  logJson: boolFlag('log-json', 'Write logs as JSON.'),
  logLevel: stringFlag('log-level', 'Log level: trace, debug, info, warn or error.'),
  node: stringFlag('node', 'Name of this node; defaults to the hostname.'),
  nodeId: stringFlag('node-id', 'Unique UUID of this node; generated when not given.'),
  nodeMeta: listFlag('node-meta', 'Metadata for this node as `key:value`; may be repeated.'),
  raftSnapshotThreshold: intFlag(
    'raft-snapshot-threshold',
    'Snapshot the Raft log after this many new entries (config key raft_snapshot_threshold).',
  ),
  raftTrailingLogs: intFlag(
    'raft-trailing-logs',
    'Raft log entries kept behind a snapshot for lagging servers (config key raft_trailing_logs).',
  ),
  retryJoin: listFlag(
    'retry-join',
    'Address of an agent to join at start, retried until it answers; may be repeated.',
  ),
  serfLanPort: intFlag('serf-lan-port', 'LAN gossip port.'),
  serfWanPort: intFlag('serf-wan-port', 'WAN gossip port; -1 disables it.'),
  server: boolFlag('server', 'Run as a server (Raft, state store) rather than a client agent.'),
  serverPort: intFlag('server-port', 'Server RPC port.'),
};

// Config keys set only when their flag is given, so the schema's defaults apply otherwise.
const OPTIONAL_KEYS = {
  advertise: 'advertiseAddr',
  bind: 'bindAddr',
  bootstrap: 'bootstrap',
  bootstrapExpect: 'bootstrapExpect',
  client: 'clientAddr',
  dataDir: 'dataDir',
  datacenter: 'datacenter',
  dnsPort: 'dnsPort',
  domain: 'domain',
  altDomain: 'altDomain',
  encrypt: 'encrypt',
  grpcPort: 'grpcPort',
  httpPort: 'httpPort',
  logLevel: 'logLevel',
  nodeId: 'nodeId',
  raftSnapshotThreshold: 'raftSnapshotThreshold',
  raftTrailingLogs: 'raftTrailingLogs',
  serfLanPort: 'serfLanPort',
  serfWanPort: 'serfWanPort',
  serverPort: 'serverPort',
} as const satisfies Partial<Record<keyof typeof flags, keyof AgentConfigInput>>;

// Consul also accepts these spellings of levels.
const LOG_LEVEL_ALIASES: Record<string, string> = { err: 'error', warning: 'warn' };

export const agent = defineCommand({
  usage: `
Usage: tribune agent [options]

  Starts a Tribune agent and runs until it is told to leave or is interrupted.

      $ tribune agent -dev
      $ tribune agent -server -data-dir=/var/lib/tribune -node-meta=rack:a1
`,
  http: 'none',
  flags,
  async run({ flags: values, args, given }) {
    if (args.length > 0) fail(`==> Unexpected arguments: ${args.join(' ')}`);
    let files: ConfigFileContents;
    try {
      files = await loadConfigFiles(values.configFile, values.configDir);
    } catch (err) {
      return fail(`==> ${(err as Error).message}`);
    }
    // Files first, then flags, which win as in Consul.
    const input: Record<string, unknown> = {
      ...files.config,
      dev: values.dev,
      // A dev agent is a single server, as in Consul.
      server: values.server || values.dev || files.config.server === true,
      nodeName: values.node || files.config.nodeName || hostname(),
      logJson: values.logJson || files.config.logJson === true,
      enableScriptChecks: values.enableScriptChecks || files.config.enableScriptChecks === true,
      nodeMeta: { ...files.config.nodeMeta, ...parseNodeMeta(values.nodeMeta) },
      retryJoin: [...(files.config.retryJoin ?? []), ...values.retryJoin],
      recursors: [...(files.config.recursors ?? []), ...values.recursor],
      configFiles: values.configFile,
      configDirs: values.configDir,
    };
    for (const [flag, key] of Object.entries(OPTIONAL_KEYS)) {
      if (given.has(flag as keyof typeof flags)) input[key] = values[flag as keyof typeof OPTIONAL_KEYS];
    }
    if (typeof input.logLevel === 'string') {
      const level = input.logLevel.toLowerCase();
      input.logLevel = LOG_LEVEL_ALIASES[level] ?? level;
    }

    const config = validate(input);
    // Loaded only here so other commands never pay for the agent's dependencies.
    const { runAgent } = await import('../../agent/run.ts');
    try {
      await runAgent(config);
    } catch (err) {
      fail(`==> ${(err as Error).message}`);
    }
    return 0;
  },
});

/** `key:value` as Consul's agent reads it; a pair without a colon has an empty value. */
function parseNodeMeta(pairs: string[]): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const colon = pair.indexOf(':');
    if (colon === -1) meta[pair] = '';
    else meta[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return meta;
}

/** Checks the merged configuration, reporting each problem under the flag that set it. */
function validate(input: Record<string, unknown>): AgentConfig {
  const result = validatedAgentConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const flagFor = new Map<unknown, string>([
    ['nodeName', 'node'],
    ['nodeMeta', 'node-meta'],
    ...Object.entries(OPTIONAL_KEYS).map(([flag, key]): [string, string] => [
      key,
      flags[flag as keyof typeof flags].name,
    ]),
  ]);
  const problems = result.error.issues.map((issue) => {
    const [field] = issue.path;
    const name = flagFor.get(field) ?? String(field ?? 'config');
    return `    -${name}: ${issue.message}`;
  });
  return fail(['==> Invalid agent configuration:', ...problems].join('\n'));
}
