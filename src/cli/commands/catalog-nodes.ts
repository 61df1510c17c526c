import { z } from 'zod';
import { pathEscape } from '../../api/client.ts';
import { checkArgCount, defineCommand, fail, orFail } from '../command.ts';
import { loadDataSource } from '../data-source.ts';
import { boolFlag, mapFlag, stringFlag } from '../flags.ts';
import { formatPairs, metaQuery, stringMap } from '../shapes.ts';
import { alignColumns } from '../table.ts';
import * as ui from '../ui.ts';

const nodeSchema = z.object({
  ID: z.string().default(''),
  Node: z.string(),
  Address: z.string(),
  Datacenter: z.string().default(''),
  TaggedAddresses: stringMap,
  Meta: stringMap,
});
type CatalogNode = z.output<typeof nodeSchema>;

/** /v1/catalog/service/:name entries carry their node's fields, with the node's metadata as NodeMeta. */
const serviceNodeSchema = nodeSchema
  .omit({ Meta: true })
  .extend({ NodeMeta: stringMap })
  .transform(({ NodeMeta, ...node }): CatalogNode => ({ ...node, Meta: NodeMeta }));

export const catalogNodes = defineCommand({
  usage: `
Usage: tribune catalog nodes [options]

  Lists the nodes registered in the datacenter (the agent's by default).

      $ tribune catalog nodes
      $ tribune catalog nodes -detailed
      $ tribune catalog nodes -service=web
      $ tribune catalog nodes -node-meta="rack=a1"
      $ tribune catalog nodes -near=node-web
`,
  http: 'client+server',
  flags: {
    detailed: boolFlag('detailed', 'Print full node IDs, tagged addresses and metadata.'),
    filter: stringFlag('filter', 'Filter `expression` applied by the server, or @file or - for stdin.'),
    near: stringFlag('near', 'Sort by estimated round-trip time from this node ("_agent" for this agent).'),
    nodeMeta: mapFlag('node-meta', 'Only nodes with this `key=value` metadata; may be repeated.'),
    service: stringFlag('service', 'Only nodes providing this service `name`.'),
  },
  async run({ flags, args, api }) {
    checkArgCount(args, 0);
    const client = api();
    let filter = '';
    if (flags.filter !== '') {
      try {
        filter = (await loadDataSource(flags.filter)).toString('utf8');
      } catch (err) {
        fail(`Could not process filter argument: ${(err as Error).message}`);
      }
    }
    const query = { near: flags.near, 'node-meta': metaQuery(flags.nodeMeta), filter };
    const nodes =
      flags.service !== ''
        ? await orFail(
            'Error listing nodes for service',
            client.get(`/v1/catalog/service/${pathEscape(flags.service)}`, z.array(serviceNodeSchema), query),
          )
        : await orFail('Error listing nodes', client.get('/v1/catalog/nodes', z.array(nodeSchema), query));

    if (nodes.length === 0) {
      ui.error('No nodes match the given query - try expanding your search.');
      return 0;
    }
    const header = flags.detailed
      ? ['Node', 'ID', 'Address', 'DC', 'TaggedAddresses', 'Meta']
      : ['Node', 'ID', 'Address', 'DC'];
    ui.info(alignColumns([header, ...nodes.map((node) => nodeRow(node, flags.detailed))]));
    return 0;
  },
});

function nodeRow(node: CatalogNode, detailed: boolean): string[] {
  if (!detailed) {
    // Short IDs: just the first group of the UUID.
    const dash = node.ID.indexOf('-');
    return [node.Node, dash > 0 ? node.ID.slice(0, dash) : node.ID, node.Address, node.Datacenter];
  }
  return [
    node.Node,
    node.ID,
    node.Address,
    node.Datacenter,
    formatPairs(node.TaggedAddresses, ', '),
    formatPairs(node.Meta, ', '),
  ];
}
