import { randomBytes } from 'node:crypto';
import { defineCommand } from '../command.ts';
import * as ui from '../ui.ts';

/** Consul's key length: 32 bytes selects AES-256 for gossip encryption. */
const KEY_BYTES = 32;

export const keygen = defineCommand({
  usage: `
Usage: tribune keygen

  Generates a new 32-byte encryption key that can be used to configure the
  agent to encrypt traffic. The output of this command is already
  in the proper format that the agent expects.
`,
  http: 'none',
  flags: {},
  async run() {
    // Like Consul, arguments after the flags are ignored.
    ui.info(randomBytes(KEY_BYTES).toString('base64'));
    return 0;
  },
});
