// Every command by its full name, with the one-line synopsis listings show. Names with spaces are
// subcommands; groups only list theirs. A command's module is loaded only when it runs, so a CLI call pays for
// one command's dependencies, not all of them.
import type { Command } from '../command.ts';

export interface Entry {
  readonly synopsis: string;
  /** Loads the command; absent for a group, which prints `usage` and its subcommands instead. */
  readonly load?: () => Promise<Command>;
  readonly usage?: string;
}

export const commands: ReadonlyMap<string, Entry> = new Map<string, Entry>([
  ['agent', { synopsis: 'Runs a Tribune agent', load: async () => (await import('./agent.ts')).agent }],
  [
    'catalog',
    {
      synopsis: 'Interact with the catalog',
      usage:
        'Usage: tribune catalog <subcommand> [options] [args]\n\n  Reads the catalog: datacenters, nodes and services.',
    },
  ],
  [
    'catalog datacenters',
    {
      synopsis: 'Lists all known datacenters',
      load: async () => (await import('./catalog-datacenters.ts')).catalogDatacenters,
    },
  ],
  [
    'catalog nodes',
    {
      synopsis: 'Lists all nodes in the given datacenter',
      load: async () => (await import('./catalog-nodes.ts')).catalogNodes,
    },
  ],
  [
    'catalog services',
    {
      synopsis: 'Lists all registered services in a datacenter',
      load: async () => (await import('./catalog-services.ts')).catalogServices,
    },
  ],
  [
    'info',
    {
      synopsis: 'Provides debugging information for operators.',
      load: async () => (await import('./info.ts')).info,
    },
  ],
  [
    'kv',
    {
      synopsis: 'Interact with the key-value store',
      usage: 'Usage: tribune kv <subcommand> [options] [args]\n\n  Reads and writes the key-value store.',
    },
  ],
  [
    'kv delete',
    {
      synopsis: 'Removes data from the KV store',
      load: async () => (await import('./kv-delete.ts')).kvDelete,
    },
  ],
  [
    'kv export',
    {
      synopsis: 'Exports a tree from the KV store as JSON',
      load: async () => (await import('./kv-export.ts')).kvExport,
    },
  ],
  [
    'kv get',
    {
      synopsis: 'Retrieves or lists data from the KV store',
      load: async () => (await import('./kv-get.ts')).kvGet,
    },
  ],
  [
    'kv import',
    {
      synopsis: 'Imports a tree stored as JSON to the KV store',
      load: async () => (await import('./kv-import.ts')).kvImport,
    },
  ],
  [
    'kv put',
    {
      synopsis: 'Sets or updates data in the KV store',
      load: async () => (await import('./kv-put.ts')).kvPut,
    },
  ],
  [
    'leave',
    {
      synopsis: 'Gracefully leaves the Consul cluster and shuts down',
      load: async () => (await import('./leave.ts')).leave,
    },
  ],
  [
    'members',
    {
      synopsis: 'Lists the members of a Consul cluster',
      load: async () => (await import('./members.ts')).members,
    },
  ],
  [
    'services',
    {
      synopsis: 'Interact with services',
      usage:
        'Usage: tribune services <subcommand> [options] [args]\n\n  Registers and deregisters services with the local agent.',
    },
  ],
  [
    'services deregister',
    {
      synopsis: 'Deregister services with the local agent',
      load: async () => (await import('./services-deregister.ts')).servicesDeregister,
    },
  ],
  [
    'services register',
    {
      synopsis: 'Register services with the local agent',
      load: async () => (await import('./services-register.ts')).servicesRegister,
    },
  ],
  [
    'version',
    { synopsis: 'Prints the Tribune version', load: async () => (await import('./version.ts')).version },
  ],
]);
