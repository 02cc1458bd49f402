// `keys rotate`: adds a new signing key set. Older keys keep verifying (they stay in jwks_uri) until
// retired, so tokens already issued stay valid.
import { recordAuditEvent } from '../audit/store.ts';
import { loadSigningJwks, rotateSigningKeys } from '../oidc/keys.ts';
import { loadSecrets } from '../secrets.ts';
import type { CommandSpec } from './command.ts';

const keysRotate: CommandSpec = {
  name: 'keys rotate',
  usage: '',
  summary: 'add a new signing key set (a running server starts using it at its next start)',
  options: {},
  async run({ db, config }) {
    const { keyEncryptionSecret } = loadSecrets(config);
    // Decrypt the existing keys first: with the wrong KEY_ENCRYPTION_SECRET (another DATA_DIR, a
    // missing variable) we would store keys the server cannot read, and it would refuse to start.
    // loadSigningJwks throws KeyDecryptionError, whose message says exactly that.
    await loadSigningJwks(db, keyEncryptionSecret);
    const kids = await rotateSigningKeys(db, keyEncryptionSecret);
    await recordAuditEvent(db, { type: 'keys.rotated', details: { actor: 'cli', kids } });
    return {
      json: { kids },
      text: [
        'Added signing keys:',
        ...kids.map((kid) => `  ${kid}`),
        // The provider loads its JWKS once, in createApp; there is no reload signal yet.
        'A running server picks up new keys at its next start: restart it to sign with them.',
      ].join('\n'),
    };
  },
};

export const keyCommands: CommandSpec[] = [keysRotate];
