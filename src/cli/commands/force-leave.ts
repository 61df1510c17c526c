import { defineCommand, orFail } from '../command.ts';
import { boolFlag, FlagError } from '../flags.ts';

export const forceLeave = defineCommand({
  usage: `
Usage: tribune force-leave [options] name

  Forces a member of the cluster to enter the "left" state. Note that if the
  member is still actually alive, it will eventually rejoin the cluster. This
  command is most useful for cleaning out "failed" nodes that are never coming
  back. If you do not force leave a failed node, the agents will attempt to
  reconnect to it for some period of time before eventually reaping it.
`,
  http: 'client',
  flags: {
    prune: boolFlag('prune', 'Remove agent completely from list of members'),
    wan: boolFlag('wan', 'Exclusively leave the agent from the WAN serf pool.'),
  },
  async run({ flags, args, api }) {
    if (args.length !== 1) throw new FlagError('A single node name must be specified to force leave.');
    const node = args[0]!;
    await orFail(
      'Error force leaving',
      api().putIgnoringBody(`/v1/agent/force-leave/${encodeURIComponent(node)}`, {
        query: { prune: flags.prune ? '1' : undefined, wan: flags.wan ? '1' : undefined },
      }),
    );
    // Like Consul, success prints nothing.
    return 0;
  },
});
