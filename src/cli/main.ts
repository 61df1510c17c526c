// Entry point of the `tribune` binary: finds the command named by the leading words of the arguments and runs
// it. Exit codes follow Consul's CLI: 0 success (and requested help), 1 errors and usage errors, 127 for an
// unknown or missing command.
import { commands, type Entry } from './commands/index.ts';
import * as ui from './ui.ts';

const HELP_FLAGS = new Set(['-h', '-help', '--help']);
const VERSION_FLAGS = new Set(['-v', '-version', '--version']);

async function main(argv: readonly string[]): Promise<number> {
  if (VERSION_FLAGS.has(argv[0] ?? '')) return main(['version']);
  const end = argv.indexOf('--');
  const helpWanted = argv.slice(0, end === -1 ? argv.length : end).some((arg) => HELP_FLAGS.has(arg));

  const found = findCommand(argv);
  if (found === undefined) {
    if (helpWanted && (argv[0] ?? '').startsWith('-')) {
      ui.info(topHelp());
      return 0;
    }
    ui.error(topHelp());
    return 127;
  }
  const { name, entry, rest } = found;
  if (entry.load === undefined) {
    // A group run without a known subcommand shows its help, as an error unless help was asked for.
    const help = groupHelp(name, entry);
    if (helpWanted) ui.info(help);
    else ui.error(help);
    return helpWanted ? 0 : 1;
  }
  const command = await entry.load();
  if (helpWanted) {
    ui.info(command.help());
    return 0;
  }
  return command.run(rest);
}

/** The longest command name made of the leading arguments, like `kv get` in `kv get -recurse foo`. */
function findCommand(argv: readonly string[]) {
  for (let words = argv.length; words > 0; words--) {
    const name = argv.slice(0, words).join(' ');
    const entry = commands.get(name);
    if (entry !== undefined) return { name, entry, rest: argv.slice(words) };
  }
  return undefined;
}

function listing(prefix: string): string {
  const names = [...commands.keys()].filter(
    (name) => name.startsWith(prefix) && !name.slice(prefix.length).includes(' '),
  );
  const width = Math.max(...names.map((name) => name.length - prefix.length));
  return names
    .map((name) => `    ${name.slice(prefix.length).padEnd(width)}    ${commands.get(name)!.synopsis}`)
    .join('\n');
}

function topHelp(): string {
  return `Usage: tribune [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n${listing('')}`;
}

function groupHelp(name: string, group: Entry): string {
  return `${group.usage}\n\nSubcommands:\n${listing(`${name} `)}`;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  ui.error(`Error: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
}
