import { z } from 'zod';
import { checkArgCount, defineCommand, orFail } from '../command.ts';
import * as ui from '../ui.ts';

export const catalogDatacenters = defineCommand({
  usage: `
Usage: tribune catalog datacenters [options]

  Lists the known datacenters, nearest first.

      $ tribune catalog datacenters
`,
  http: 'client+server',
  flags: {},
  async run({ args, api }) {
    checkArgCount(args, 0);
    const dcs = await orFail(
      'Error listing datacenters',
      api().get('/v1/catalog/datacenters', z.array(z.string())),
    );
    for (const dc of dcs) ui.info(dc);
    return 0;
  },
});
