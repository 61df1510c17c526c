import { defineCommand } from '../command.ts';
import { boolFlag, FlagError } from '../flags.ts';
import * as ui from '../ui.ts';

export const join = defineCommand({
  usage: `
Usage: tribune join [options] address ...

  Tells a running agent (started with "tribune agent") to join the cluster
  by contacting at least one existing member. Each address is host[:port] of
  a member's gossip listener (port 8301 when left out).
`,
  http: 'client',
  flags: {
    wan: boolFlag('wan', 'Joins a server to another server in the WAN pool.'),
  },
  async run({ flags, args, api }) {
    // Consul's usage error: the message, a blank line and the help, exit 1.
    if (args.length === 0) throw new FlagError('At least one address to join must be specified.');
    const client = api();
    let joins = 0;
    // One address after the other, as Consul does, so the errors come out in order.
    for (const address of args) {
      try {
        await client.putIgnoringBody(`/v1/agent/join/${encodeURIComponent(address)}`, {
          query: { wan: flags.wan ? '1' : undefined },
        });
        joins++;
      } catch (err) {
        ui.error(`Error joining address '${address}': ${(err as Error).message}`);
      }
    }
    if (joins === 0) {
      ui.error('Failed to join any nodes.');
      return 1;
    }
    ui.info(`Successfully joined cluster by contacting ${joins} nodes.`);
    return 0;
  },
});
