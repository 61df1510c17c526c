import { Kv, trimLeadingSlash } from '../../api/kv.ts';
import { checkArgCount, defineCommand, fail, orFail } from '../command.ts';
import { boolFlag, uintFlag } from '../flags.ts';
import * as ui from '../ui.ts';

export const kvDelete = defineCommand({
  usage: `
Usage: tribune kv delete [options] KEY_OR_PREFIX

  Deletes the key at the given path; deleting a key that does not exist is not an
  error. With -recurse, deletes every key that starts with the prefix.

      $ tribune kv delete foo
      $ tribune kv delete -recurse foo
`,
  http: 'client+server',
  flags: {
    cas: boolFlag('cas', 'Check-and-set: delete only if the key is at -modify-index.'),
    modifyIndex: uintFlag('modify-index', 'The ModifyIndex the key must have for -cas to delete.'),
    recurse: boolFlag('recurse', 'Delete every key that starts with the given prefix.'),
  },
  async run({ flags, args, api }) {
    checkArgCount(args, 1);
    const key = trimLeadingSlash(args[0] ?? '');
    if (key === '' && !flags.recurse) fail('Error! Missing KEY argument');
    if (flags.cas && flags.modifyIndex === 0n) {
      // Consul's wording, doubled "than" included.
      fail('Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.');
    }
    if (flags.modifyIndex !== 0n && !flags.cas) fail('Cannot specify -modify-index without -cas!');
    if (flags.recurse && flags.cas) fail('Cannot specify both -cas and -recurse!');

    const kv = new Kv(api());
    if (flags.recurse) {
      await orFail(`Error! Did not delete prefix ${key}`, kv.delete(key, { recurse: true }));
      ui.info(`Success! Deleted keys with prefix: ${key}`);
    } else if (flags.cas) {
      const ok = await orFail(`Error! Did not delete key ${key}`, kv.delete(key, { cas: flags.modifyIndex }));
      if (!ok) fail(`Error! Did not delete key ${key}: CAS failed`);
      ui.info(`Success! Deleted key: ${key}`);
    } else {
      await orFail(`Error deleting key ${key}`, kv.delete(key));
      ui.info(`Success! Deleted key: ${key}`);
    }
    return 0;
  },
});
