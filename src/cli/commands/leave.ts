import { defineCommand, orFail } from '../command.ts';
import * as ui from '../ui.ts';

export const leave = defineCommand({
  usage: `
Usage: tribune leave [options]

  Makes the agent leave the cluster gracefully and shut down.
`,
  http: 'client',
  flags: {},
  async run({ args, api, help }) {
    if (args.length > 0) {
      ui.error(`Error found unexpected args: [${args.join(' ')}]`);
      ui.info(help());
      return 1;
    }
    await orFail('Error leaving', api().putIgnoringBody('/v1/agent/leave'));
    ui.info('Graceful leave complete');
    return 0;
  },
});
