import { deregisterService } from '../agent-services.ts';
import { defineCommand, fail, orFail } from '../command.ts';
import { stringFlag } from '../flags.ts';
import { servicesFromFiles } from '../service-definitions.ts';
import * as ui from '../ui.ts';

export const servicesDeregister = defineCommand({
  usage: `
Usage: tribune services deregister [options] [FILE...]

  Deregisters services from the local agent: those defined in the given files
  (matched by ID, or by name when they have no ID), or the one given by -id. Run
  it against the agent the services were registered with.

      $ tribune services deregister web.json db.json
      $ tribune services deregister -id=web
`,
  http: 'client+server',
  flags: {
    id: stringFlag('id', 'ID of the service to deregister; not allowed with files.'),
  },
  async run({ flags, args, api }) {
    if (args.length === 0 && flags.id === '')
      fail('Service deregistration requires at least one argument or -id.');
    if (args.length > 0 && flags.id !== '')
      fail('Service deregistration requires arguments or -id, not both.');
    const services = args.length > 0 ? await orFail('Error', servicesFromFiles(args)) : [{ ID: flags.id }];

    const client = api();
    for (const service of services) {
      const id = String(service.ID || service.Name || '');
      if (id === '') continue;
      await orFail(
        `Error deregistering service ${JSON.stringify(service.Name ?? '')}`,
        deregisterService(client, id),
      );
      ui.info(`Deregistered service: ${id}`);
    }
    return 0;
  },
});
