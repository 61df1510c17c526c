import { z } from 'zod';
import { defineCommand, fail, orFail } from '../command.ts';
import { boolFlag, intFlag, stringFlag } from '../flags.ts';
import * as ui from '../ui.ts';

// `tribune keyring`: Consul's keyring command over /v1/operator/keyring. Lists the gossip keys each pool
// holds (or their primary keys), installs a key, makes one primary, or removes one, cluster-wide; exits 1
// when any member failed or did not answer, with the agent's error after "error: ".

const keyringResponseSchema = z.array(
  z.object({
    WAN: z.boolean(),
    Datacenter: z.string(),
    Segment: z.string().default(''),
    Partition: z.string().default(''),
    Messages: z.record(z.string(), z.string()).nullish(),
    Keys: z.record(z.string(), z.number()).nullish(),
    PrimaryKeys: z.record(z.string(), z.number()).nullish(),
    NumNodes: z.number(),
  }),
);
type KeyringResponse = z.output<typeof keyringResponseSchema>[number];

export const keyring = defineCommand({
  usage: `
Usage: tribune keyring [options]

  Manages encryption keys used for gossip messages. Gossip encryption is
  optional. When enabled, this command may be used to examine active encryption
  keys in the cluster, add new keys, and remove old ones. When combined, this
  functionality provides the ability to perform key rotation cluster-wide,
  without disrupting the cluster.

  All operations performed by this command can only be run against server nodes,
  and affect both the LAN and WAN keyrings in lock-step.

  All variations of the keyring command return 0 if all nodes reply and there
  are no errors. If any node fails to reply or reports failure, the exit code
  will be 1.
`,
  http: 'client',
  flags: {
    install: stringFlag(
      'install',
      'Install a new encryption key. This will broadcast the new key to all members in the cluster.',
    ),
    use: stringFlag(
      'use',
      'Change the primary encryption key, which is used to encrypt messages. The key must already be ' +
        'installed before this operation can succeed.',
    ),
    remove: stringFlag(
      'remove',
      'Remove the given key from the cluster. This operation may only be performed on keys which are not ' +
        'currently the primary key.',
    ),
    list: boolFlag('list', 'List all keys currently in use within the cluster.'),
    listPrimary: boolFlag('list-primary', 'List all primary keys currently in use within the cluster.'),
    relayFactor: intFlag(
      'relay-factor',
      'Setting this to a non-zero value will cause nodes to relay their response to the operation through ' +
        'this many randomly-chosen other nodes in the cluster. The maximum allowed value is 5.',
    ),
    localOnly: boolFlag(
      'local-only',
      'Setting this to true will force the keyring query to only hit local servers (no WAN traffic). This ' +
        'flag can only be set for list queries.',
    ),
  },
  async run({ flags, api, help }) {
    const actions = [flags.list, flags.listPrimary, flags.install, flags.use, flags.remove].filter(
      (action) => action !== false && action !== '',
    ).length;
    if (actions === 0) {
      ui.error(help());
      return 1;
    }
    if (actions > 1) fail('Only a single action is allowed');
    if (flags.relayFactor < 0 || flags.relayFactor > 5) {
      fail('Error parsing relay factor: Relay factor must be in range: [0, 5]');
    }
    // As Consul checks it: against -list alone, so -list-primary -local-only is refused too.
    if (flags.localOnly && !flags.list) {
      fail('Error validating local-only: local-only can only be set for list requests');
    }
    const client = api();
    const relayFactor = flags.relayFactor === 0 ? undefined : String(flags.relayFactor);

    if (flags.list || flags.listPrimary) {
      ui.info(`==> Gathering installed ${flags.list ? '' : 'primary '}encryption keys...`);
      const responses = await orFail(
        'error',
        client.get('/v1/operator/keyring', keyringResponseSchema, {
          'relay-factor': relayFactor,
          'local-only': flags.localOnly ? 'true' : undefined,
        }),
      );
      for (const response of responses) {
        ui.info(formatResponse(response, (flags.list ? response.Keys : response.PrimaryKeys) ?? {}));
      }
      return 0;
    }

    const [method, key, notice] = flags.install
      ? (['POST', flags.install, 'Installing new gossip encryption key...'] as const)
      : flags.use
        ? (['PUT', flags.use, 'Changing primary gossip encryption key...'] as const)
        : (['DELETE', flags.remove, 'Removing gossip encryption key...'] as const);
    ui.info(`==> ${notice}`);
    await orFail(
      'error',
      client.writeIgnoringBody(method, '/v1/operator/keyring', {
        body: { Key: key },
        query: { 'relay-factor': relayFactor },
      }),
    );
    return 0;
  },
});

/** Consul's listing of one pool: its name, what members said, then each key with its count. */
function formatResponse(response: KeyringResponse, keys: Record<string, number>): string {
  let pool = response.WAN ? 'WAN' : `${response.Datacenter} (LAN)`;
  if (response.Segment !== '') pool += ` [${response.Segment}]`;
  else if (response.Partition !== '' && response.Partition !== 'default') {
    pool += ` [partition: ${response.Partition}]`;
  }
  let out = `\n${pool}:\n`;
  for (const [from, message] of Object.entries(response.Messages ?? {}))
    out += `  ===> ${from}: ${message}\n`;
  // Consul prints Go map order (random); sorted, the listing reads the same every time.
  for (const [key, count] of Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out += `  ${key} [${count}/${response.NumNodes}]\n`;
  }
  return out.replace(/\n+$/, '');
}
