import { defineCommand, fail, orFail } from '../command.ts';
import { stringFlag } from '../flags.ts';
import * as ui from '../ui.ts';

const FAILURE = 'Error removing peer';

export const operatorRaftRemovePeer = defineCommand({
  usage: `
Usage: tribune operator raft remove-peer [options]

  Removes a server, named by -id or by -address, from the Raft configuration.

  A server that is gone for good can linger in the Raft configuration and count
  against the quorum; this removes it. While the server still shows in
  "tribune members", making it leave the cluster is the cleaner way.
`,
  http: 'client+server',
  flags: {
    address: stringFlag('address', 'The address (IP:port) to remove from the Raft configuration.'),
    id: stringFlag('id', 'The ID to remove from the Raft configuration.'),
  },
  async run({ flags, api }) {
    // Consul's checks and wording, in its order.
    if (flags.address === '' && flags.id === '')
      fail(`${FAILURE}: an address or id is required for the peer to remove`);
    if (flags.address !== '' && flags.id !== '') fail(`${FAILURE}: cannot give both an address and id`);
    const query = flags.address !== '' ? { address: flags.address } : { id: flags.id };
    await orFail(FAILURE, api().deleteIgnoringBody('/v1/operator/raft/peer', query));
    ui.info(
      flags.address !== ''
        ? `Removed peer with address ${goQuote(flags.address)}`
        : `Removed peer with id ${goQuote(flags.id)}`,
    );
    return 0;
  },
});

/** Go's %q, close enough for addresses and IDs: a double-quoted string with JSON's escapes. */
function goQuote(text: string): string {
  return JSON.stringify(text);
}
