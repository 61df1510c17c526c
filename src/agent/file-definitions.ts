import type { Logger } from 'pino';
import { decodeJson } from '../http/body.ts';
import { HttpError } from '../http/errors.ts';
import { agentCheckFields, toLocalCheck } from '../http/routes/agent-checks.ts';
import { serviceDefinitionSchema, toServiceRegistration } from '../http/routes/agent-services.ts';
import type { LocalAgent, LocalCheck } from '../local/local-agent.ts';
import type { ServiceInput } from '../state/commands.ts';
import type { AgentConfig } from './config.ts';
import { loadConfigFiles } from './config-files.ts';
import { ConfigSyntaxError } from './config-syntax.ts';
import { type AgentWatch, parseAgentWatch } from './watches.ts';

/**
 * The services and checks defined in -config-file / -config-dir: registered at start and brought in line
 * with the files on every reload (added, replaced, or removed when their definition is gone), as Consul's
 * agent does. Services and checks registered through the API are left alone. The files' watches are read
 * and checked here too, for the agent to run.
 */
export class FileDefinitions {
  private services = new Set<string>();
  private checks = new Set<string>();

  constructor(
    private readonly local: LocalAgent,
    private readonly config: AgentConfig,
    private readonly log: Logger,
  ) {}

  /** Reads and checks the files; throws on any problem, changing nothing. */
  async read(): Promise<Pending> {
    if (this.config.configFiles.length === 0 && this.config.configDirs.length === 0) {
      return { services: [], checks: [], watches: [] };
    }
    const contents = await loadConfigFiles(this.config.configFiles, this.config.configDirs);
    for (const ignored of contents.ignored)
      this.log.warn(`config key not supported yet, ignored: ${ignored}`);
    const node = this.local.nodeName;
    return {
      services: contents.services.map(({ file, definition }) =>
        explained(file, () =>
          toServiceRegistration(decodeJson(definition, serviceDefinitionSchema), node, this.config),
        ),
      ),
      checks: contents.checks.map(({ file, definition }) =>
        explained(file, () => toLocalCheck(decodeJson(definition, agentCheckFields), node, this.config)),
      ),
      watches: contents.watches.map(({ file, definition }) => parseAgentWatch(file, definition, this.log)),
    };
  }

  /** Registers what `read` found and removes what earlier files defined and these no longer do. */
  async apply({ services, checks }: Pending): Promise<void> {
    const serviceIds = new Set(services.map((s) => s.service.ID));
    const checkIds = new Set(checks.map((c) => c.check.CheckID));
    for (const id of this.services) if (!serviceIds.has(id)) await this.local.removeService(id);
    for (const id of this.checks) if (!checkIds.has(id)) await this.local.removeCheck(id);
    for (const { service, checks: own } of services) await this.local.addService(service, own, true);
    for (const check of checks) await this.local.addCheck(check);
    this.services = serviceIds;
    this.checks = checkIds;
    if (serviceIds.size + checkIds.size > 0) {
      this.log.info(
        { services: serviceIds.size, checks: checkIds.size },
        'registered definitions from config files',
      );
    }
  }
}

export interface Pending {
  services: { service: ServiceInput; checks: LocalCheck[] }[];
  checks: LocalCheck[];
  watches: AgentWatch[];
}

/** A definition's problem, named by its file: the API's decode errors read "Request decode failed". */
function explained<T>(file: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof HttpError) {
      throw new ConfigSyntaxError(`${file}: ${err.message.replace(/^Request decode failed: /, '')}`);
    }
    throw err;
  }
}
