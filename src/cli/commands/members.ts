import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { defineCommand, fail, orFail } from '../command.ts';
import { boolFlag, stringFlag } from '../flags.ts';
import { formatPairs, stringMap } from '../shapes.ts';
import { alignColumns } from '../table.ts';
import * as ui from '../ui.ts';

const memberSchema = z.object({
  Name: z.string(),
  Addr: z.string(),
  Port: z.number(),
  Tags: stringMap,
  Status: z.number(),
});
type Member = z.output<typeof memberSchema>;

// serf's MemberStatus numbering.
const STATUS_NAMES = ['none', 'alive', 'leaving', 'left', 'failed'];
// Gossip tags a Consul agent advertises about itself.
const ROLE_SERVER = 'consul';
const ROLE_CLIENT = 'node';
const ALL_SEGMENTS = '_all';

export const members = defineCommand({
  usage: `
Usage: tribune members [options]

  Lists the cluster members the agent knows of through gossip, with their state:
  alive, leaving, left or failed. Exits 2 when no member matches.
`,
  http: 'client',
  flags: {
    detailed: boolFlag('detailed', 'Print every gossip tag of each member.'),
    filter: stringFlag('filter', 'Filter `expression` applied by the agent.'),
    segment: stringFlag('segment', 'Only members of this network segment.', ALL_SEGMENTS),
    status: stringFlag('status', 'Only members whose status matches this regular `expression`.', '.*'),
    wan: boolFlag('wan', 'List the WAN pool (servers of every datacenter) instead of the LAN pool.'),
  },
  async run({ flags, api }) {
    let statusRe: RegExp;
    try {
      statusRe = new RegExp(flags.status);
    } catch (err) {
      fail(`Failed to compile status regexp: ${(err as Error).message}`);
    }
    const query = { segment: flags.segment, wan: flags.wan ? '1' : undefined, filter: flags.filter };
    const all = await orFail(
      'Error retrieving members',
      api().get('/v1/agent/members', z.array(memberSchema), query),
    );

    const shown = all
      .map((member) => withDisplayTags(member, flags.segment))
      .filter((m) => statusRe.test(statusOf(m)));
    if (shown.length === 0) return 2;
    shown.sort(compareMembers);
    const table = flags.detailed
      ? [['Node', 'Address', 'Status', 'Tags'], ...shown.map(detailedRow)]
      : [
          ['Node', 'Address', 'Status', 'Type', 'Build', 'Protocol', 'DC', 'Partition', 'Segment'],
          ...shown.map(row),
        ];
    ui.info(alignColumns(table));
    return 0;
  },
});

/** Fills the partition and segment tags the way Consul shows them: servers span `<all>` segments. */
function withDisplayTags(member: Member, segmentFilter: string): Member {
  const tags = { ...member.Tags };
  tags.ap ||= 'default';
  if (tags.ap === 'default') {
    if (segmentFilter === ALL_SEGMENTS && tags.role === ROLE_SERVER) tags.segment = '<all>';
    else tags.segment ||= '<default>';
  } else {
    tags.segment = '';
  }
  return { ...member, Tags: tags };
}

function statusOf(member: Member): string {
  return STATUS_NAMES[member.Status] ?? 'unknown';
}

function address(member: Member): string {
  return isIPv6(member.Addr) ? `[${member.Addr}]:${member.Port}` : `${member.Addr}:${member.Port}`;
}

function row(member: Member): string[] {
  const { Tags: tags } = member;
  const type = tags.role === ROLE_SERVER ? 'server' : tags.role === ROLE_CLIENT ? 'client' : undefined;
  if (type === undefined)
    return [member.Name, address(member), statusOf(member), 'unknown', '', '', '', '', ''];
  // The build tag is "version:revision"; only the version is shown.
  const build = tags.build === undefined || tags.build === '' ? '< 0.3' : tags.build.split(':')[0]!;
  return [
    member.Name,
    address(member),
    statusOf(member),
    type,
    build,
    tags.vsn ?? '',
    tags.dc ?? '',
    tags.ap ?? '',
    tags.segment ?? '',
  ];
}

function detailedRow(member: Member): string[] {
  return [member.Name, address(member), statusOf(member), formatPairs(member.Tags, ',')];
}

/** Servers first, then the default partition, then by segment, partition and name. */
function compareMembers(a: Member, b: Member): number {
  const isServer = (m: Member) => m.Tags.role === ROLE_SERVER;
  const isDefault = (m: Member) => (m.Tags.ap ?? '') === '' || m.Tags.ap === 'default';
  const keys = (m: Member) => [
    isServer(m) ? 0 : 1,
    isDefault(m) ? 0 : 1,
    m.Tags.segment ?? '',
    m.Tags.ap ?? '',
    m.Name,
  ];
  const [ka, kb] = [keys(a), keys(b)];
  for (let i = 0; i < ka.length; i++) {
    if (ka[i]! < kb[i]!) return -1;
    if (ka[i]! > kb[i]!) return 1;
  }
  return 0;
}
