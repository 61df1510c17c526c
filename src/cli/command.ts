// The shape every subcommand shares: parse flags (its own plus the HTTP ones), print help or usage errors the
// way Consul does, run, and turn failures into a message on stderr and exit code 1.
import type { ApiClient } from '../api/client.ts';
import {
  FlagError,
  type FlagSpec,
  type FlagValues,
  formatFlagUsage,
  HelpRequested,
  parseFlags,
  type UsageSection,
} from './flags.ts';
import { apiClientFromFlags, clientFlags, serverFlags } from './http-flags.ts';
import * as ui from './ui.ts';

export interface Command {
  help(): string;
  /** Runs with the arguments after the command's name; resolves to the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** Ends the command with `message` on stderr and exit code 1. */
export class CommandFailure extends Error {}

export function fail(message: string): never {
  throw new CommandFailure(message);
}

/** Awaits `work`, turning its error into a failure worded `<prefix>: <error>` as Consul words them. */
export async function orFail<T>(prefix: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof CommandFailure) throw err;
    return fail(`${prefix}: ${(err as Error).message}`);
  }
}

/** Consul's wording when a command gets more positional arguments than it takes. */
export function checkArgCount(args: readonly string[], max: number): void {
  if (args.length > max) fail(`Too many arguments (expected ${max}, got ${args.length})`);
}

export interface CommandContext<S extends FlagSpec> {
  flags: FlagValues<S>;
  args: string[];
  given: Set<keyof S>;
  /** The agent client, built on first use so argument errors are reported before address errors. */
  api(): ApiClient;
  /** The command's full help text. */
  help(): string;
}

/** Which of the shared HTTP flags a command accepts: none (agent), client only (agent endpoints), or both. */
export type HttpFlags = 'none' | 'client' | 'client+server';

export interface CommandDefinition<S extends FlagSpec> {
  /** The help text above the flags: a `Usage:` line, then a description. */
  usage: string;
  flags: S;
  http: HttpFlags;
  run(ctx: CommandContext<S>): Promise<number>;
}

export function defineCommand<S extends FlagSpec>(def: CommandDefinition<S>): Command {
  const httpSpec: FlagSpec =
    def.http === 'none' ? {} : def.http === 'client' ? clientFlags : { ...clientFlags, ...serverFlags };
  const sections: UsageSection[] = [
    { title: 'HTTP API Options', spec: httpSpec },
    { title: 'Command Options', spec: def.flags },
  ];
  const help = () => `${def.usage.trim()}\n\n${formatFlagUsage(sections)}`.trimEnd();

  return {
    help,
    async run(argv) {
      try {
        const parsed = parseFlags({ ...httpSpec, ...def.flags }, argv);
        const httpValues = parsed.flags as FlagValues<typeof clientFlags> & FlagValues<typeof serverFlags>;
        let client: ApiClient | undefined;
        const api = () => {
          try {
            client ??= apiClientFromFlags(httpValues);
          } catch (err) {
            fail(`Error connecting to Consul agent: ${(err as Error).message}`);
          }
          return client;
        };
        return await def.run({
          flags: parsed.flags as FlagValues<S>,
          args: parsed.args,
          given: parsed.given as Set<keyof S>,
          api,
          help,
        });
      } catch (err) {
        if (err instanceof HelpRequested) {
          ui.info(help());
          return 0;
        }
        if (err instanceof FlagError) {
          ui.error(`${err.message}\n\n${help()}`);
          return 1;
        }
        if (err instanceof CommandFailure) {
          ui.error(err.message);
          return 1;
        }
        throw err;
      }
    },
  };
}
