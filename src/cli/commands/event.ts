import { z } from 'zod';
import { compileRegex } from '../../http/filter/regex.ts';
import { defineCommand, fail, orFail } from '../command.ts';
import { FlagError, stringFlag } from '../flags.ts';
import * as ui from '../ui.ts';

const selfSchema = z.object({ Config: z.object({ NodeName: z.string() }) });
const firedSchema = z.object({ ID: z.string() });

export const event = defineCommand({
  usage: `
Usage: tribune event [options] [payload]

  Dispatches a custom user event across a datacenter. An event must provide
  a name, but a payload is optional. Events support filtering using
  regular expressions on node name, service, and tag definitions.
`,
  http: 'client',
  flags: {
    name: stringFlag('name', 'Name of the event.'),
    node: stringFlag('node', 'Regular expression to filter on node names.'),
    service: stringFlag('service', 'Regular expression to filter on service instances.'),
    tag: stringFlag('tag', 'Regular expression to filter on service tags. Must be used with -service.'),
  },
  async run({ flags, args, api }) {
    // Consul's checks, in its order and words. Filters are Go (RE2) regular expressions, as the agents that
    // apply them read them, so Go's parse errors are reported.
    if (flags.name === '') throw new FlagError('Event name must be specified');
    for (const [what, pattern] of [
      ['node', flags.node],
      ['service', flags.service],
      ['tag', flags.tag],
    ] as const) {
      if (pattern === '') continue;
      try {
        compileRegex(pattern);
      } catch (err) {
        fail(`Failed to compile ${what} filter regexp: ${(err as Error).message}`);
      }
    }
    if (flags.tag !== '' && flags.service === '') fail('Cannot provide tag filter without service filter.');
    if (args.length > 1) throw new FlagError('Too many command line arguments.');
    const payload = args.length === 1 ? new Uint8Array(Buffer.from(args[0]!, 'utf8')) : undefined;

    const client = api();
    // Consul asks the agent for its name first, so an unreachable agent reads as a query error.
    await orFail('Error querying Consul agent', client.get('/v1/agent/self', selfSchema));
    const fired = await orFail(
      'Error firing event',
      client.put(`/v1/event/fire/${encodeURIComponent(flags.name)}`, firedSchema, {
        query: { node: flags.node, service: flags.service, tag: flags.tag },
        body: payload,
      }),
    );
    ui.info(`Event ID: ${fired.ID}`);
    return 0;
  },
});
