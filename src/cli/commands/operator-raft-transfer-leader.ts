import { z } from 'zod';
import { defineCommand, fail } from '../command.ts';
import { stringFlag } from '../flags.ts';
import * as ui from '../ui.ts';

// "transfering" is Consul's spelling; scripts may match on it.
const FAILURE = 'Error transfering leadership';

export const operatorRaftTransferLeader = defineCommand({
  usage: `
Usage: tribune operator raft transfer-leader [options]

  Asks the current leader to hand Raft leadership to another voter: the one
  named by -id, or one Raft picks when -id is left out.
`,
  http: 'client+server',
  flags: {
    id: stringFlag('id', 'The ID of the server to transfer leadership to.'),
  },
  async run({ flags, api }) {
    const client = api();
    let reply: { Success: boolean };
    try {
      reply = await client.post('/v1/operator/raft/transfer-leader', z.object({ Success: z.boolean() }), {
        query: { id: flags.id },
      });
    } catch (err) {
      // Consul wraps the client's error after "leadership" with a space and no colon; kept as it words it.
      fail(`${FAILURE}: Failed to transfer leadership ${(err as Error).message}`);
    }
    if (!reply.Success) fail(`${FAILURE}: Failed to transfer leadership`);
    ui.info('Success');
    return 0;
  },
});
