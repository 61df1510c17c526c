import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { durationFromJson, parseDuration } from '../util/duration.ts';
import type { AgentConfigInput } from './config.ts';
import { ConfigSyntaxError, isObject, parseConfigText } from './config-syntax.ts';

// -config-file and -config-dir as Consul reads them: files in the order given, a directory's *.json and
// *.hcl files in lexical order; later values win, lists such as retry_join add up. Service, check and watch
// definitions are collected for the agent to act on; agent options map onto the agent's configuration.

export interface ConfigFileContents {
  config: Partial<AgentConfigInput>;
  /** Service definitions (Consul's `service` / `services`), as written. */
  services: { file: string; definition: Record<string, unknown> }[];
  /** Check definitions (Consul's `check` / `checks`), as written. */
  checks: { file: string; definition: Record<string, unknown> }[];
  /** Watch definitions (Consul's `watches`), as written. */
  watches: { file: string; definition: Record<string, unknown> }[];
  /** Keys Consul knows that this agent does not act on yet, to report. */
  ignored: string[];
}

type Setter = (config: Partial<AgentConfigInput>, value: unknown, file: string) => void;

const scalar =
  <K extends keyof AgentConfigInput>(key: K, type: 'string' | 'number' | 'boolean'): Setter =>
  (config, value, file) => {
    if (typeof value !== type) throw new ConfigSyntaxError(`${file}: ${String(key)} must be a ${type}`);
    (config as Record<string, unknown>)[key] = value;
  };

const PORTS: Record<string, keyof AgentConfigInput> = {
  http: 'httpPort',
  dns: 'dnsPort',
  server: 'serverPort',
  serf_lan: 'serfLanPort',
  serf_wan: 'serfWanPort',
  grpc: 'grpcPort',
};

/** Consul's config keys this agent reads, and where each goes. */
const SETTERS: Record<string, Setter> = {
  datacenter: scalar('datacenter', 'string'),
  data_dir: scalar('dataDir', 'string'),
  node_name: scalar('nodeName', 'string'),
  node_id: scalar('nodeId', 'string'),
  server: scalar('server', 'boolean'),
  bootstrap: scalar('bootstrap', 'boolean'),
  bootstrap_expect: scalar('bootstrapExpect', 'number'),
  bind_addr: scalar('bindAddr', 'string'),
  client_addr: scalar('clientAddr', 'string'),
  advertise_addr: scalar('advertiseAddr', 'string'),
  log_level: scalar('logLevel', 'string'),
  encrypt: scalar('encrypt', 'string'),
  log_json: scalar('logJson', 'boolean'),
  enable_script_checks: scalar('enableScriptChecks', 'boolean'),
  raft_snapshot_threshold: scalar('raftSnapshotThreshold', 'number'),
  raft_trailing_logs: scalar('raftTrailingLogs', 'number'),
  retry_join: (config, value, file) => {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw new ConfigSyntaxError(`${file}: retry_join must be a list of addresses`);
    }
    config.retryJoin = [...(config.retryJoin ?? []), ...value];
  },
  node_meta: (config, value, file) => {
    if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
      throw new ConfigSyntaxError(`${file}: node_meta must map strings to strings`);
    }
    config.nodeMeta = { ...config.nodeMeta, ...(value as Record<string, string>) };
  },
  reconnect_timeout: (config, value, file) => {
    if (typeof value !== 'string')
      throw new ConfigSyntaxError(`${file}: reconnect_timeout must be a duration`);
    try {
      config.reconnectTimeoutMs = parseDuration(value) / 1e6;
    } catch (err) {
      throw new ConfigSyntaxError(`${file}: reconnect_timeout: ${(err as Error).message}`);
    }
  },
  domain: scalar('domain', 'string'),
  alt_domain: scalar('altDomain', 'string'),
  recursors: (config, value, file) => {
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
      throw new ConfigSyntaxError(`${file}: recursors must be a list of addresses`);
    }
    config.recursors = [...(config.recursors ?? []), ...list];
  },
  dns_config: (config, value, file) => {
    if (!isObject(value)) throw new ConfigSyntaxError(`${file}: dns_config must be an object`);
    const dns: Record<string, unknown> = { ...(config.dnsConfig as Record<string, unknown> | undefined) };
    for (const [name, item] of Object.entries(value)) {
      const set = DNS_CONFIG[name];
      if (set) set(dns, item, `${file}: dns_config.${name}`);
      else if (!DNS_CONFIG_UNSUPPORTED.has(name))
        throw new ConfigSyntaxError(`${file}: invalid config key dns_config.${name}`);
    }
    config.dnsConfig = dns as AgentConfigInput['dnsConfig'];
  },
  ports: (config, value, file) => {
    if (!isObject(value)) throw new ConfigSyntaxError(`${file}: ports must be an object`);
    for (const [name, port] of Object.entries(value)) {
      const key = PORTS[name];
      if (!key) throw new ConfigSyntaxError(`${file}: invalid config key ports.${name}`);
      scalar(key, 'number')(config, port, file);
    }
  },
};

type DnsSetter = (dns: Record<string, unknown>, value: unknown, where: string) => void;

const dnsScalar =
  (key: string, type: 'number' | 'boolean'): DnsSetter =>
  (dns, value, where) => {
    if (typeof value !== type) throw new ConfigSyntaxError(`${where} must be a ${type}`);
    dns[key] = value;
  };

/** A Go duration string (or integer nanoseconds, as JSON may carry it), in milliseconds. */
function durationMs(value: unknown, where: string): number {
  try {
    return durationFromJson(value) / 1e6;
  } catch (err) {
    throw new ConfigSyntaxError(`${where}: ${(err as Error).message}`);
  }
}

const dnsDuration =
  (key: string): DnsSetter =>
  (dns, value, where) => {
    dns[key] = durationMs(value, where);
  };

/** dns_config's keys this agent acts on. */
const DNS_CONFIG: Record<string, DnsSetter> = {
  allow_stale: dnsScalar('allowStale', 'boolean'),
  max_stale: dnsDuration('maxStaleMs'),
  node_ttl: dnsDuration('nodeTtlMs'),
  service_ttl: (dns, value, where) => {
    if (!isObject(value)) throw new ConfigSyntaxError(`${where} must map service names to durations`);
    const ttls: Record<string, number> = { ...(dns.serviceTtlMs as Record<string, number> | undefined) };
    for (const [service, ttl] of Object.entries(value))
      ttls[service] = durationMs(ttl, `${where}.${service}`);
    dns.serviceTtlMs = ttls;
  },
  only_passing: dnsScalar('onlyPassing', 'boolean'),
  udp_answer_limit: dnsScalar('udpAnswerLimit', 'number'),
  a_record_limit: dnsScalar('aRecordLimit', 'number'),
  enable_truncate: dnsScalar('enableTruncate', 'boolean'),
  recursor_timeout: dnsDuration('recursorTimeoutMs'),
  enable_additional_node_meta_txt: dnsScalar('nodeMetaTxt', 'boolean'),
  soa: (dns, value, where) => {
    if (!isObject(value)) throw new ConfigSyntaxError(`${where} must be an object`);
    const keys: Record<string, string> = {
      refresh: 'refresh',
      retry: 'retry',
      expire: 'expire',
      min_ttl: 'minTtl',
    };
    const soa: Record<string, unknown> = { ...(dns.soa as Record<string, unknown> | undefined) };
    for (const [name, item] of Object.entries(value)) {
      const key = keys[name];
      if (!key) throw new ConfigSyntaxError(`${where}: invalid config key soa.${name}`);
      if (typeof item !== 'number') throw new ConfigSyntaxError(`${where}.${name} must be a number`);
      soa[key] = item;
    }
    dns.soa = soa;
  },
};

/** dns_config keys Consul knows that change nothing here (this agent always reads its own state, uncompressed). */
const DNS_CONFIG_UNSUPPORTED = new Set([
  'cache_max_age',
  'disable_compression',
  'prefer_namespace',
  'recursor_strategy',
  'use_cache',
]);

/** Keys of Consul's configuration that are valid but not acted on by this agent yet. */
const KNOWN_UNSUPPORTED = new Set([
  'acl',
  'addresses',
  'autopilot',
  'connect',
  'leave_on_terminate',
  'limits',
  'performance',
  'primary_datacenter',
  'retry_join_wan',
  'rejoin_after_leave',
  'skip_leave_on_interrupt',
  'telemetry',
  'tls',
  'ui_config',
]);

export async function loadConfigFiles(files: string[], dirs: string[]): Promise<ConfigFileContents> {
  const contents: ConfigFileContents = { config: {}, services: [], checks: [], watches: [], ignored: [] };
  for (const file of [...files, ...(await filesInDirs(dirs))]) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigSyntaxError(`Error reading ${file}: ${(err as Error).message}`);
    }
    merge(contents, file, await parseConfigText(file, text));
  }
  return contents;
}

async function filesInDirs(dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      throw new ConfigSyntaxError(`Error reading config dir ${dir}: ${(err as Error).message}`);
    }
    found.push(
      ...names
        .filter((n) => n.endsWith('.json') || n.endsWith('.hcl'))
        .sort()
        .map((n) => join(dir, n)),
    );
  }
  return found;
}

function merge(contents: ConfigFileContents, file: string, parsed: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(parsed)) {
    if (key === 'service' || key === 'services') {
      contents.services.push(...definitions(file, key, value));
    } else if (key === 'check' || key === 'checks') {
      contents.checks.push(...definitions(file, key, value));
    } else if (key === 'watches') {
      contents.watches.push(...definitions(file, key, value));
    } else if (SETTERS[key]) {
      SETTERS[key](contents.config, value, file);
    } else if (KNOWN_UNSUPPORTED.has(key)) {
      contents.ignored.push(`${file}: ${key}`);
    } else {
      throw new ConfigSyntaxError(`Error parsing ${file}: invalid config key ${key}`);
    }
  }
}

function definitions(file: string, key: string, value: unknown) {
  const items = Array.isArray(value) ? value : [value];
  return items.map((definition) => {
    if (!isObject(definition)) throw new ConfigSyntaxError(`${file}: each ${key} entry must be an object`);
    return { file, definition };
  });
}
