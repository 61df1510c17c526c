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
  ['event', { synopsis: 'Fire a new event', load: async () => (await import('./event.ts')).event }],
  [
    'force-leave',
    {
      synopsis: 'Forces a member of the cluster to enter the "left" state',
      load: async () => (await import('./force-leave.ts')).forceLeave,
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
    'join',
    { synopsis: 'Tell Consul agent to join cluster', load: async () => (await import('./join.ts')).join },
  ],
  [
    'keygen',
    { synopsis: 'Generates a new encryption key', load: async () => (await import('./keygen.ts')).keygen },
  ],
  [
    'keyring',
    {
      synopsis: 'Manages gossip layer encryption keys',
      load: async () => (await import('./keyring.ts')).keyring,
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
    'lock',
    {
      synopsis: 'Execute a command holding a lock',
      load: async () => (await import('./lock.ts')).lock,
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
    'operator',
    {
      synopsis: 'Provides cluster-level tools for Consul operators',
      usage:
        'Usage: tribune operator <subcommand> [options]\n\n' +
        '  Cluster-level tools for operators, such as inspecting and changing the Raft\n' +
        '  configuration. Use them with care: a wrong change can take the cluster down\n' +
        '  or lose data. Requests are forwarded to the leader where needed, so they can\n' +
        '  be run against any agent.',
    },
  ],
  [
    'operator raft',
    {
      synopsis: 'Provides cluster-level tools for Consul operators',
      usage:
        'Usage: tribune operator raft <subcommand> [options]\n\n' +
        "  Inspects and changes the servers' Raft configuration: lists the peers, and in\n" +
        '  rare cases removes dead ones to recover quorum or moves leadership.',
    },
  ],
  [
    'operator raft list-peers',
    {
      synopsis: 'Display the current Raft peer configuration',
      load: async () => (await import('./operator-raft-list-peers.ts')).operatorRaftListPeers,
    },
  ],
  [
    'operator raft remove-peer',
    {
      synopsis: 'Remove a Consul server from the Raft configuration',
      load: async () => (await import('./operator-raft-remove-peer.ts')).operatorRaftRemovePeer,
    },
  ],
  [
    'operator raft transfer-leader',
    {
      synopsis: 'Transfer raft leadership to another node',
      load: async () => (await import('./operator-raft-transfer-leader.ts')).operatorRaftTransferLeader,
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
    'snapshot',
    {
      synopsis: 'Saves, restores and inspects snapshots of Consul server state',
      usage:
        'Usage: tribune snapshot <subcommand> [options] [args]\n\n' +
        "  Saves, restores and inspects point-in-time snapshots of the servers' state\n" +
        '  (key/value entries, the catalog, sessions) for disaster recovery.\n\n' +
        '      $ tribune snapshot save backup.snap\n' +
        '      $ tribune snapshot restore backup.snap\n' +
        '      $ tribune snapshot inspect backup.snap',
    },
  ],
  [
    'snapshot inspect',
    {
      synopsis: 'Displays information about a Consul snapshot file',
      load: async () => (await import('./snapshot-inspect.ts')).snapshotInspect,
    },
  ],
  [
    'snapshot restore',
    {
      synopsis: 'Restores snapshot of Consul server state',
      load: async () => (await import('./snapshot-restore.ts')).snapshotRestore,
    },
  ],
  [
    'snapshot save',
    {
      synopsis: 'Saves snapshot of Consul server state',
      load: async () => (await import('./snapshot-save.ts')).snapshotSave,
    },
  ],
  [
    'version',
    { synopsis: 'Prints the Tribune version', load: async () => (await import('./version.ts')).version },
  ],
  [
    'watch',
    { synopsis: 'Watch for changes in Consul', load: async () => (await import('./watch.ts')).watch },
  ],
]);
