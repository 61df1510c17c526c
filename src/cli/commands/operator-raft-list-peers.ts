import { z } from 'zod';
import { defineCommand, orFail } from '../command.ts';
import { alignColumns } from '../table.ts';
import * as ui from '../ui.ts';

const raftConfigurationSchema = z.object({
  Servers: z.array(
    z.object({
      ID: z.string(),
      Node: z.string(),
      Address: z.string(),
      Leader: z.boolean(),
      ProtocolVersion: z.string(),
      Voter: z.boolean(),
      LastIndex: z.number().int().nonnegative().default(0),
    }),
  ),
  Index: z.number().optional(),
});
type RaftConfiguration = z.output<typeof raftConfigurationSchema>;

const UINT64 = 2n ** 64n;

export const operatorRaftListPeers = defineCommand({
  usage: `
Usage: tribune operator raft list-peers [options]

  Shows the servers of the Raft configuration: their node names, IDs and
  addresses, which one leads, which vote, and how far each follower's log
  trails the leader's.
`,
  http: 'client+server',
  flags: {},
  async run({ api }) {
    const configuration = await orFail(
      'Error getting peers: Failed to retrieve raft configuration',
      api().get('/v1/operator/raft/configuration', raftConfigurationSchema),
    );
    ui.info(peerTable(configuration));
    return 0;
  },
});

/** Consul's list-peers table (1.15 and later: with the commit index and the distance to the leader's). */
export function peerTable({ Servers: servers }: RaftConfiguration): string {
  const leader = servers.find((server) => server.Leader);
  const leaderIndex = BigInt(leader?.LastIndex ?? 0);
  const rows = servers.map((server) => {
    // Go subtracts uint64s here, so a server ahead of the leader (or any server when there is no leader)
    // wraps around; Consul prints the wrapped number, and so does this.
    const behind = (((leaderIndex - BigInt(server.LastIndex)) % UINT64) + UINT64) % UINT64;
    const trails = server.Leader ? '-' : `${behind} ${behind === 1n ? 'commit' : 'commits'}`;
    return [
      server.Node,
      server.ID,
      server.Address,
      server.Leader ? 'leader' : 'follower',
      String(server.Voter),
      server.ProtocolVersion === '' ? '<=1' : server.ProtocolVersion,
      String(server.LastIndex),
      trails,
    ];
  });
  return alignColumns(
    [
      ['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol', 'Commit Index', 'Trails Leader By'],
      ...rows,
    ].map((row) => row.map((cell) => cell.trim())),
  );
}
