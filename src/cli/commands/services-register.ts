import { registerService } from '../agent-services.ts';
import { defineCommand, fail, orFail } from '../command.ts';
import { intFlag, listFlag, mapFlag, stringFlag } from '../flags.ts';
import { type ServiceRegistration, servicesFromFiles } from '../service-definitions.ts';
import * as ui from '../ui.ts';

export const servicesRegister = defineCommand({
  usage: `
Usage: tribune services register [options] [FILE...]

  Registers services with the local agent, from JSON definition files (a
  "service" object or a "services" array, as in agent configuration) or from
  flags. Deregister them with "tribune services deregister" when done.

      $ tribune services register web.json
      $ tribune services register -name=web -port=8080 -tag=v1
`,
  http: 'client+server',
  flags: {
    address: stringFlag('address', 'Address of the service, for flag-based registration.'),
    id: stringFlag('id', 'ID of the service; defaults to -name.'),
    meta: mapFlag('meta', 'Service metadata as `key=value`; may be repeated.'),
    name: stringFlag('name', 'Name of the service, for flag-based registration.'),
    port: intFlag('port', 'Port of the service, for flag-based registration.'),
    tag: listFlag('tag', 'Tag for the service; may be repeated.'),
  },
  async run({ flags, args, api }) {
    if (args.length === 0 && flags.name === '')
      fail('Service registration requires at least one argument or flags.');
    if (args.length > 0 && flags.name !== '')
      fail('Service registration requires arguments or -id, not both.');
    const services =
      args.length > 0 ? await orFail('Error', servicesFromFiles(args)) : [registrationFromFlags(flags)];

    const client = api();
    for (const service of services) {
      await orFail(
        `Error registering service ${JSON.stringify(service.Name)}`,
        registerService(client, service),
      );
      ui.info(`Registered service: ${service.Name}`);
    }
    return 0;
  },
});

/** The registration body for the flag form; empty fields are left out, as Go's `omitempty` does. */
function registrationFromFlags(flags: {
  id: string;
  name: string;
  address: string;
  port: number;
  tag: string[];
  meta: Record<string, string>;
}): ServiceRegistration {
  const body: ServiceRegistration = { Name: flags.name };
  if (flags.id !== '') body.ID = flags.id;
  if (flags.address !== '') body.Address = flags.address;
  if (flags.port !== 0) body.Port = flags.port;
  if (flags.tag.length > 0) body.Tags = flags.tag;
  if (Object.keys(flags.meta).length > 0) body.Meta = flags.meta;
  return body;
}
