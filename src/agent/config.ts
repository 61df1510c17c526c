import { z } from 'zod';

/** A DNS zone name as Consul's domain and alt_domain take it: labels of letters, digits, '-' and '_'. */
const DNS_DOMAIN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i;

/** Consul's dns_config block. Durations are milliseconds. */
export const dnsConfigSchema = z.object({
  /** Answer from this server's state without asking the leader, unless it is more than maxStale behind. */
  allowStale: z.boolean().default(true),
  /** Consul's default: 87600h (ten years). */
  maxStaleMs: z
    .number()
    .min(0)
    .default(87_600 * 3600_000),
  nodeTtlMs: z.number().min(0).default(0),
  /** TTLs by service name; a key ending in `*` is a prefix, the longest matching prefix wins. */
  serviceTtlMs: z.record(z.string(), z.number().min(0)).default({}),
  /** Hide instances with a warning check as well as critical ones. */
  onlyPassing: z.boolean().default(false),
  /** Most answers in a UDP response to a client without EDNS (Consul caps it at 8 as well). */
  udpAnswerLimit: z.number().int().min(0).default(3),
  /** Most A/AAAA records in a service answer; 0 is unlimited. */
  aRecordLimit: z.number().int().min(0).default(0),
  /** Set the TC bit when answers were left out. */
  enableTruncate: z.boolean().default(false),
  recursorTimeoutMs: z.number().min(1).default(2000),
  /** Consul's enable_additional_node_meta_txt: node meta as TXT records in the additional section. */
  nodeMetaTxt: z.boolean().default(true),
  soa: z
    .object({
      refresh: z.number().int().min(0).default(3600),
      retry: z.number().int().min(0).default(600),
      expire: z.number().int().min(0).default(86400),
      minTtl: z.number().int().min(0).default(0),
    })
    .prefault({}),
});

export type DnsConfig = z.infer<typeof dnsConfigSchema>;

/** What `tribune agent` runs with, after flags, files and environment are merged. Names follow Consul's config keys. */
export const agentConfigSchema = z.object({
  dev: z.boolean().default(false),
  server: z.boolean().default(false),
  nodeName: z.string().min(1),
  nodeId: z.string().uuid().optional(),
  datacenter: z
    .string()
    .regex(/^[a-z0-9_-]+$/i, 'Datacenter must be alphanumeric with underscores and hyphens only')
    .default('dc1'),
  bindAddr: z.string().default('127.0.0.1'),
  /** The address other agents reach this one at; defaults to the bind address. */
  advertiseAddr: z.string().optional(),
  clientAddr: z.string().default('127.0.0.1'),
  httpPort: z.number().int().min(0).max(65535).default(8500),
  dnsPort: z.number().int().min(-1).max(65535).default(8600),
  serverPort: z.number().int().min(0).max(65535).default(8300),
  serfLanPort: z.number().int().min(0).max(65535).default(8301),
  serfWanPort: z.number().int().min(-1).max(65535).default(8302),
  grpcPort: z.number().int().min(-1).max(65535).default(8502),
  dataDir: z.string().optional(),
  /** Servers to expect before bootstrapping the Raft cluster (Consul's bootstrap_expect). */
  bootstrapExpect: z.number().int().min(0).default(0),
  /** Bootstrap a single-server cluster on this server alone. */
  bootstrap: z.boolean().default(false),
  /** Addresses of agents to join at start, retried until one answers. */
  retryJoin: z.array(z.string()).default([]),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  logJson: z.boolean().default(false),
  nodeMeta: z.record(z.string(), z.string()).default({}),
  /** Snapshot the Raft log after this many new entries (Consul's raft_snapshot_threshold). */
  raftSnapshotThreshold: z.number().int().min(1).default(16384),
  /** Log entries kept behind a snapshot for lagging followers (Consul's raft_trailing_logs). */
  raftTrailingLogs: z.number().int().min(0).default(10240),
  /** How long a failed member stays before it is reaped from the pool and the catalog (Consul: 72h, at least 8h). */
  reconnectTimeoutMs: z
    .number()
    .int()
    .min(8 * 3600_000)
    .default(72 * 3600_000),
  /** The gossip encryption key, base64 (Consul's -encrypt / encrypt): 16, 24 or 32 bytes. */
  encrypt: z.string().optional(),
  /** Consul's -config-file and -config-dir: agent options, services and checks in JSON or HCL. */
  configFiles: z.array(z.string()).default([]),
  configDirs: z.array(z.string()).default([]),
  /** Script checks run arbitrary commands, so Consul runs them only when told to. */
  enableScriptChecks: z.boolean().default(false),
  /** The DNS zone the agent answers for (Consul's domain). */
  domain: z.string().regex(DNS_DOMAIN, 'must be a DNS domain name').default('consul'),
  /** A second zone answered like the first (Consul's alt_domain). */
  altDomain: z.string().regex(DNS_DOMAIN, 'must be a DNS domain name').optional(),
  /** Upstream DNS servers (`host[:port]`, port 53 by default) for names outside the domain. */
  recursors: z.array(z.string().min(1)).default([]),
  dnsConfig: dnsConfigSchema.prefault({}),
});

const normalDomain = (domain: string) => domain.toLowerCase().replace(/\.$/, '');

export const validatedAgentConfigSchema = agentConfigSchema.superRefine((config, ctx) => {
  if (config.altDomain && normalDomain(config.altDomain) === normalDomain(config.domain)) {
    ctx.addIssue({
      code: 'custom',
      path: ['altDomain'],
      message: 'alt_domain cannot be the same as domain',
    });
  }
  if (config.dev) return;
  if (!config.dataDir)
    ctx.addIssue({ code: 'custom', path: ['dataDir'], message: 'data_dir cannot be empty' });
  if (config.bootstrap && config.bootstrapExpect > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['bootstrapExpect'],
      message: "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive",
    });
  }
  if (!config.server && (config.bootstrap || config.bootstrapExpect > 0)) {
    ctx.addIssue({
      code: 'custom',
      path: ['bootstrapExpect'],
      message: 'bootstrap and bootstrap_expect need -server',
    });
  }
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
