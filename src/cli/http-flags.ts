// The flags every API command shares, named as Consul names them. "Client" flags pick the agent and token;
// "server" flags shape reads (datacenter, staleness) and only apply to commands that read replicated state.
import { ApiClient, DEFAULT_ADDRESS, resolveClientConfig } from '../api/client.ts';
import { boolFlag, type FlagValues, stringFlag } from './flags.ts';

export const clientFlags = {
  httpAddr: stringFlag(
    'http-addr',
    `The \`address\` and port of the agent's HTTP API, as host:port or http(s)://host:port. Also read ` +
      `from TRIBUNE_HTTP_ADDR or CONSUL_HTTP_ADDR. Defaults to ${DEFAULT_ADDRESS}.`,
  ),
  token: stringFlag(
    'token',
    'ACL token to send with each request. Also read from TRIBUNE_HTTP_TOKEN or CONSUL_HTTP_TOKEN.',
  ),
  tokenFile: stringFlag(
    'token-file',
    'File holding the ACL token, used instead of -token. Also read from TRIBUNE_HTTP_TOKEN_FILE or ' +
      'CONSUL_HTTP_TOKEN_FILE.',
  ),
};

export const serverFlags = {
  datacenter: stringFlag('datacenter', "Datacenter to query. Defaults to the agent's datacenter."),
  stale: boolFlag('stale', 'Let any server answer reads, not only the leader: faster, possibly stale.'),
};

export function apiClientFromFlags(
  flags: FlagValues<typeof clientFlags> & Partial<FlagValues<typeof serverFlags>>,
) {
  return new ApiClient(
    resolveClientConfig({
      httpAddr: flags.httpAddr,
      token: flags.token,
      tokenFile: flags.tokenFile,
      datacenter: flags.datacenter ?? '',
      stale: flags.stale ?? false,
    }),
  );
}
