import { TRIBUNE_VERSION } from '../../agent/version.ts';
import { checkArgCount, defineCommand } from '../command.ts';
import * as ui from '../ui.ts';

export const version = defineCommand({
  usage: `
Usage: tribune version

  Prints the version of this binary and the gossip protocol versions it speaks.
`,
  http: 'none',
  flags: {},
  async run({ args }) {
    checkArgCount(args, 0);
    ui.info(`Tribune v${TRIBUNE_VERSION}`);
    ui.info(
      'Protocol 2 spoken by default, understands 2 to 3 ' +
        '(agent will automatically use protocol >2 when speaking to compatible agents)',
    );
    return 0;
  },
});
