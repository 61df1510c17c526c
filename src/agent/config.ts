import { z } from 'zod';

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
  clientAddr: z.string().default('127.0.0.1'),
  httpPort: z.number().int().min(0).max(65535).default(8500),
  dnsPort: z.number().int().min(-1).max(65535).default(8600),
  dataDir: z.string().optional(),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  logJson: z.boolean().default(false),
  nodeMeta: z.record(z.string(), z.string()).default({}),
  /** Script checks run arbitrary commands, so Consul runs them only when told to. */
  enableScriptChecks: z.boolean().default(false),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
