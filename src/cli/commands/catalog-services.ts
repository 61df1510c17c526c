import { z } from 'zod';
import { pathEscape } from '../../api/client.ts';
import { checkArgCount, defineCommand, orFail } from '../command.ts';
import { boolFlag, mapFlag, stringFlag } from '../flags.ts';
import { metaQuery, stringList } from '../shapes.ts';
import { alignColumns } from '../table.ts';
import * as ui from '../ui.ts';

/** /v1/catalog/node/:node answers null for an unknown node. */
const nodeServicesSchema = z
  .object({
    Services: z
      .record(z.string(), z.object({ Service: z.string(), Tags: stringList }))
      .nullish()
      .transform((map) => map ?? {}),
  })
  .nullable();

export const catalogServices = defineCommand({
  usage: `
Usage: tribune catalog services [options]

  Lists the services registered in the datacenter (the agent's by default).

      $ tribune catalog services
      $ tribune catalog services -tags
      $ tribune catalog services -node=web
      $ tribune catalog services -node-meta="rack=a1"
`,
  http: 'client+server',
  flags: {
    node: stringFlag('node', 'Only services on the node with this `id or name`.'),
    nodeMeta: mapFlag('node-meta', 'Only services on nodes with this `key=value` metadata; may be repeated.'),
    tags: boolFlag('tags', "Print each service's tags, comma-separated, beside it."),
  },
  async run({ flags, args, api }) {
    checkArgCount(args, 0);
    const client = api();
    const query = { 'node-meta': metaQuery(flags.nodeMeta) };
    let services: Record<string, string[]>;
    if (flags.node !== '') {
      const node = await orFail(
        'Error listing services for node',
        client.get(`/v1/catalog/node/${pathEscape(flags.node)}`, nodeServicesSchema, query),
      );
      services = {};
      for (const { Service, Tags } of Object.values(node?.Services ?? {})) {
        services[Service] = [...(services[Service] ?? []), ...Tags];
      }
    } else {
      services = await orFail(
        'Error listing services',
        client.get('/v1/catalog/services', z.record(z.string(), stringList), query),
      );
    }

    const names = Object.keys(services).sort();
    if (names.length === 0) {
      ui.error('No services match the given query - try expanding your search.');
      return 0;
    }
    if (flags.tags) {
      const rows = names.map((name) => [name, [...services[name]!].sort().join(',')]);
      ui.info(alignColumns(rows, 6).trim());
    } else {
      for (const name of names) ui.info(name);
    }
    return 0;
  },
});
