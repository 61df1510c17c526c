import { z } from 'zod';
import { parseGoBool } from '../../util/go-bool.ts';
import { encodeGo } from '../../watch/go-json.ts';
import { WatchParseError } from '../../watch/params.ts';
import { parseWatch } from '../../watch/parse.ts';
import { runWatch, type WatchHandler } from '../../watch/plan.ts';
import { scriptHandler } from '../../watch/script-handler.ts';
import { defineCommand, fail, orFail } from '../command.ts';
import { boolFlag, durationFlag, FlagError, listFlag, stringFlag } from '../flags.ts';
import { shutdownSignal } from '../shutdown.ts';
import { stderrLog } from '../stderr-log.ts';
import * as ui from '../ui.ts';

export const watch = defineCommand({
  usage: `
Usage: tribune watch [options] [child...]

  Watches for changes in a given data view from Consul. If a child process
  is specified, it will be invoked with the latest results on changes. Otherwise,
  the latest values are dumped to stdout and the watch terminates.

  Providing the watch type is required, and other parameters may be required
  or supported depending on the watch type.

      $ tribune watch -type=key -key=config/db/host
      $ tribune watch -type=service -service=web -passingonly=true ./reload.sh
`,
  http: 'client+server',
  flags: {
    type: stringFlag(
      'type',
      'Specifies the watch type. One of key, keyprefix, services, nodes, service, checks, or event.',
    ),
    key: stringFlag('key', "Specifies the key to watch. Only for 'key' type."),
    prefix: stringFlag('prefix', "Specifies the key prefix to watch. Only for 'keyprefix' type."),
    service: stringFlag(
      'service',
      "Specifies the service to watch. Required for 'service' type, optional for 'checks' type.",
    ),
    tag: listFlag(
      'tag',
      "Specifies the service tag(s) to filter on. Optional for 'service' type. May be specified multiple times",
    ),
    passingOnly: stringFlag(
      'passingonly',
      "Specifies if only hosts passing all checks are displayed. Optional for 'service' type, must be one " +
        'of `[true|false]`. Defaults false.',
    ),
    state: stringFlag('state', "Specifies the states to watch. Optional for 'checks' type."),
    name: stringFlag('name', "Specifies an event name to watch. Only for 'event' type."),
    filter: stringFlag('filter', 'Filter to use with the request'),
    shell: boolFlag(
      'shell',
      'Use a shell to run the command (can set a custom shell via the SHELL environment variable).',
      true,
    ),
    handlerTimeout: durationFlag(
      'handler-timeout',
      'Kill a handler still running after this long, and go on watching (Tribune; 0 = no limit).',
    ),
  },
  async run({ flags, args, api }) {
    if (flags.type === '') throw new FlagError('Watch type must be specified');
    const params: Record<string, unknown> = { type: flags.type };
    const given = {
      key: flags.key,
      prefix: flags.prefix,
      service: flags.service,
      filter: flags.filter,
      state: flags.state,
      name: flags.name,
    };
    for (const [name, value] of Object.entries(given)) if (value !== '') params[name] = value;
    if (flags.tag.length > 0) params.tag = flags.tag;
    if (flags.passingOnly !== '') {
      const passing = parseGoBool(flags.passingOnly);
      if (passing === undefined) {
        fail(
          `Failed to parse passingonly flag: strconv.ParseBool: parsing "${flags.passingOnly}": invalid syntax`,
        );
      }
      params.passingonly = passing;
    }
    let spec: ReturnType<typeof parseWatch>;
    try {
      spec = parseWatch(params);
    } catch (err) {
      if (err instanceof WatchParseError) fail(err.message);
      throw err;
    }

    // Consul checks the agent answers (status/leader needs no token) before it starts to block.
    const client = api();
    await orFail('Error querying Consul agent', client.get('/v1/status/leader', z.string()));

    const stop = new AbortController();
    const shutdown = shutdownSignal();
    shutdown.addEventListener('abort', () => stop.abort(), { once: true });
    const log = stderrLog('watch');
    const handler: WatchHandler =
      args.length === 0
        ? async (_index, result) => {
            // Without a child the first result is printed as Go's MarshalIndent does, and the watch ends.
            ui.info(encodeGo(result, '    '));
            stop.abort();
          }
        : scriptHandler({
            command: args,
            shell: flags.shell,
            timeoutMs: flags.handlerTimeout / 1e6,
            output: 'inherit',
            log,
          });
    await runWatch({ type: spec.type, query: spec.query, client, handler, log, signal: stop.signal });
    return 0;
  },
});
