import { Kv } from '../../api/kv.ts';
import { decodeStdBase64 } from '../base64.ts';
import { defineCommand, fail, orFail } from '../command.ts';
import { loadDataSource } from '../data-source.ts';
import { boolFlag, stringFlag, uintFlag } from '../flags.ts';
import * as ui from '../ui.ts';

export const kvPut = defineCommand({
  usage: `
Usage: tribune kv put [options] KEY [DATA]

  Writes DATA at KEY. DATA may be given literally, read from a file with the "@"
  prefix, or read from stdin with "-". Without DATA the key is written empty.

      $ tribune kv put config/redis/maxconns 5
      $ tribune kv put config/program/license @license.lic
      $ echo "abcd1234" | tribune kv put config/program/license -

  -cas with -modify-index writes only if the key is still at that ModifyIndex.
  -acquire and -release take or give up a lock on the key for -session.

      $ tribune kv put -cas -modify-index=844 config/redis/maxconns 5
`,
  http: 'client+server',
  flags: {
    acquire: boolFlag('acquire', 'Take the lock on the key for -session, creating the key if needed.'),
    base64: boolFlag('base64', 'DATA is base64-encoded; store the decoded bytes.'),
    cas: boolFlag('cas', 'Check-and-set: write only if the key is at -modify-index (0: only if absent).'),
    flags: uintFlag('flags', 'Opaque unsigned integer stored with the key for clients to use.'),
    modifyIndex: uintFlag('modify-index', 'The ModifyIndex the key must have for -cas to write.'),
    release: boolFlag('release', 'Give up the lock on the key held by -session.'),
    session: stringFlag('session', 'Session `id` for -acquire and -release.'),
  },
  async run({ flags, args, api }) {
    if (args.length > 2) fail(`Error! Too many arguments (expected 1 or 2, got ${args.length})`);
    const [key, data] = args;
    if (key === undefined) fail('Error! Missing KEY argument');
    let value: Buffer;
    try {
      value = await loadDataSource(data ?? '');
    } catch (err) {
      fail(`Error! ${(err as Error).message}`);
    }
    if (flags.base64) {
      try {
        value = decodeStdBase64(value.toString('utf8'));
      } catch (err) {
        fail(`Error! Cannot base 64 decode data: ${(err as Error).message}`);
      }
    }
    if ((flags.acquire || flags.release) && flags.session === '') {
      fail('Error! Missing -session (required with -acquire and -release)');
    }

    const kv = new Kv(api());
    const options = { flags: flags.flags };
    if (flags.cas) {
      const ok = await orFail(
        `Error! Did not write to ${key}`,
        kv.put(key, value, { ...options, cas: flags.modifyIndex }),
      );
      if (!ok && flags.modifyIndex === 0n) {
        fail(`Error! Did not write to ${key}: CAS performed with index=0 and key already exists.`);
      }
      if (!ok) fail(`Error! Did not write to ${key}: CAS failed`);
      ui.info(`Success! Data written to: ${key}`);
    } else if (flags.acquire) {
      const ok = await orFail(
        'Error! Failed writing data',
        kv.put(key, value, { ...options, acquire: flags.session }),
      );
      if (!ok) fail('Error! Did not acquire lock');
      ui.info(`Success! Lock acquired on: ${key}`);
    } else if (flags.release) {
      const ok = await orFail(
        'Error! Failed writing data',
        kv.put(key, value, { ...options, release: flags.session }),
      );
      if (!ok) fail('Error! Did not release lock');
      ui.info(`Success! Lock released on: ${key}`);
    } else {
      await orFail('Error! Failed writing data', kv.put(key, value, options));
      ui.info(`Success! Data written to: ${key}`);
    }
    return 0;
  },
});
