import { ApiClient } from '../api/client.ts';
import { DurationError, parseDuration } from '../util/duration.ts';
import { httpHandler } from '../watch/http-handler.ts';
import { WatchParseError } from '../watch/params.ts';
import { parseWatch, type WatchSpec } from '../watch/parse.ts';
import { runWatch, type WatchHandler, type WatchLogger } from '../watch/plan.ts';
import { scriptHandler } from '../watch/script-handler.ts';
import { ConfigSyntaxError } from './config-syntax.ts';

// The agent's `watches`: each entry of the config files is a watch plan the agent runs against its own HTTP
// API, handing changes to a command (`args`, or the deprecated shell `handler`) or to an HTTP endpoint
// (`handler_type = "http"`). A reload stops them all and starts what the files now say, as Consul's does.

/** A watch from the config files, checked and ready to run. */
export interface AgentWatch {
  spec: WatchSpec;
  /** The command's words, and whether a shell runs them (the deprecated `handler` string). */
  command: { words: string[]; shell: boolean } | undefined;
  /** `handler_timeout`, a Tribune addition: kill a handler command running longer (0: no limit). */
  timeoutMs: number;
}

/** Consul's makeWatchPlan checks, with its messages; `file` names where the entry came from. */
export function parseAgentWatch(
  file: string,
  definition: Record<string, unknown>,
  log: WatchLogger,
): AgentWatch {
  const params = { ...definition };
  const failed = (reason: string) =>
    new ConfigSyntaxError(`${file}: Failed to parse watch (${JSON.stringify(definition)}): ${reason}`);
  if (params.handler_type === undefined) params.handler_type = 'script';
  else if (params.handler_type !== 'http' && params.handler_type !== 'script') {
    throw new ConfigSyntaxError(`${file}: Handler type '${String(params.handler_type)}' not recognized`);
  }
  let spec: WatchSpec;
  try {
    spec = parseWatch(params, ['handler', 'args', 'handler_timeout']);
  } catch (err) {
    if (err instanceof WatchParseError) throw failed(err.message);
    throw err;
  }
  const { handler, args, handler_timeout: timeout } = spec.exempt;
  if (handler !== undefined) {
    log.warn(
      {},
      "The 'handler' field in watches has been deprecated and replaced with the 'args' field. See " +
        'https://www.consul.io/docs/agent/watches.html',
    );
    if (typeof handler !== 'string') throw new ConfigSyntaxError(`${file}: Watch handler must be a string`);
  }
  const words = args === undefined ? undefined : watchArgs(args, file);
  const handlers = [handler !== undefined, words !== undefined, spec.handlerType === 'http'];
  if (handlers.filter(Boolean).length > 1)
    throw new ConfigSyntaxError(`${file}: Only one watch handler allowed`);
  if (!handlers.some(Boolean)) throw new ConfigSyntaxError(`${file}: Must define a watch handler`);
  const command =
    words !== undefined
      ? { words, shell: false }
      : handler !== undefined
        ? { words: [handler as string], shell: true }
        : undefined;
  return { spec, command, timeoutMs: handlerTimeout(timeout, file) };
}

/** The watches an agent runs, replaced as a whole on reload. */
export class AgentWatches {
  private running: AbortController | undefined;

  constructor(private readonly log: WatchLogger) {}

  /** Stops the current watches and starts `watches` against the agent's HTTP API at `address`. */
  replace(watches: AgentWatch[], address: string): void {
    this.stop();
    if (watches.length === 0) return;
    const controller = new AbortController();
    this.running = controller;
    for (const watch of watches) {
      const { spec } = watch;
      const client = new ApiClient({
        address: localAddress(address),
        token: spec.token,
        datacenter: spec.datacenter,
        stale: false,
      });
      void runWatch({
        type: spec.type,
        query: spec.query,
        client,
        handler: this.handlerFor(watch),
        log: this.log,
        signal: controller.signal,
      });
    }
    this.log.debug({ watches: watches.length }, 'watches started');
  }

  stop(): void {
    this.running?.abort();
    this.running = undefined;
  }

  private handlerFor({ spec, command, timeoutMs }: AgentWatch): WatchHandler {
    if (spec.httpHandler) return httpHandler(spec.httpHandler, this.log);
    return scriptHandler({
      command: command!.words,
      shell: command!.shell,
      timeoutMs,
      output: 'log',
      log: this.log,
    });
  }
}

function watchArgs(args: unknown, file: string): string[] {
  if (typeof args === 'string') return [args];
  if (Array.isArray(args) && args.every((arg) => typeof arg === 'string')) return args;
  throw new ConfigSyntaxError(`${file}: Watch args must be a list of strings`);
}

function handlerTimeout(value: unknown, file: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'string') throw new ConfigSyntaxError(`${file}: handler_timeout must be a duration`);
  try {
    return parseDuration(value) / 1e6;
  } catch (err) {
    if (err instanceof DurationError) throw new ConfigSyntaxError(`${file}: handler_timeout: ${err.message}`);
    throw err;
  }
}

/** Watches call the agent itself; a wildcard listen address is reached on loopback. */
function localAddress(address: string): string {
  return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[?::\]?:/, '[::1]:');
}
