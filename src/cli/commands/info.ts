import { z } from 'zod';
import { defineCommand, fail, orFail } from '../command.ts';
import * as ui from '../ui.ts';

// Stats is a map of sections (agent, raft, serf_lan, ...) to string values.
const selfSchema = z.object({ Stats: z.record(z.string(), z.record(z.string(), z.unknown())).optional() });

export const info = defineCommand({
  usage: `
Usage: tribune info [options]

  Prints the agent's runtime statistics, grouped by subsystem, for debugging.
`,
  http: 'client',
  flags: {},
  async run({ api }) {
    const self = await orFail('Error querying agent', api().get('/v1/agent/self', selfSchema));
    if (self.Stats === undefined) fail("Agent response did not contain 'Stats' key");
    for (const section of Object.keys(self.Stats).sort()) {
      ui.info(`${section}:`);
      const values = self.Stats[section]!;
      for (const key of Object.keys(values).sort()) ui.info(`\t${key} = ${String(values[key])}`);
    }
    return 0;
  },
});
