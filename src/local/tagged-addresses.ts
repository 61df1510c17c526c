import { isIPv4, isIPv6 } from 'node:net';
import type { ServiceInput } from '../state/commands.ts';

/**
 * The agent fills in lan/wan tagged addresses from a service's IP address unless the registration set them,
 * as Consul's agent does, so Connect and DNS consumers find them in the catalog.
 */
export function withDefaultTaggedAddresses(service: ServiceInput): ServiceInput {
  const family = isIPv4(service.Address) ? 'ipv4' : isIPv6(service.Address) ? 'ipv6' : undefined;
  if (!family) return service;
  const address = { Address: service.Address, Port: service.Port };
  return {
    ...service,
    TaggedAddresses: {
      [`lan_${family}`]: address,
      [`wan_${family}`]: address,
      ...service.TaggedAddresses,
    },
  };
}
