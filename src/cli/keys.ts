// `keys list`, `keys rotate` and `keys retire`: the signing keys' lifecycle. Running servers see every
// change within KEY_REFRESH_SECONDS, without a restart.
import { listSigningKeys, retireSigningKey, type SigningKeyInfo } from '../oidc/keys-lifecycle.ts';
import { rotateSigningKeys } from '../oidc/keys.ts';
import { loadSecrets } from '../secrets.ts';
import { formatTable, type CommandSpec } from './command.ts';

const iso = (date: Date | null) => date?.toISOString() ?? null;
const minute = (date: Date | null) => (date ? date.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z') : '-');

const keyJson = (key: SigningKeyInfo) => ({
  kid: key.kid, alg: key.alg, status: key.status, created_at: iso(key.createdAt),
  superseded_at: iso(key.supersededAt), retirable_at: iso(key.retirableAt), retired_at: iso(key.retiredAt),
});

const keysList: CommandSpec = {
  name: 'keys list',
  usage: '',
  summary: 'list signing keys: signing (signs new tokens), verifying (published for tokens it signed), retired',
  options: {},
  async run({ db }) {
    const keys = await listSigningKeys(db);
    return {
      json: { keys: keys.map(keyJson) },
      text: formatTable(
        ['KID', 'ALG', 'STATUS', 'CREATED', 'RETIRABLE FROM', 'RETIRED'],
        keys.map((key) => [key.kid, key.alg, key.status, minute(key.createdAt), minute(key.retirableAt), minute(key.retiredAt)]),
        'No signing keys yet: the server creates them at its first start.',
      ),
    };
  },
};

const keysRotate: CommandSpec = {
  name: 'keys rotate',
  usage: '',
  summary: 'add a new signing key per algorithm; it signs from now on, older keys keep verifying until retired',
  options: {},
  async run({ db, config }) {
    const { keyEncryptionSecret } = loadSecrets(config);
    // Refused with KeyDecryptionError when KEY_ENCRYPTION_SECRET cannot read the current keys.
    const kids = await rotateSigningKeys(db, keyEncryptionSecret, { actor: 'cli' });
    return {
      json: { kids },
      text: [
        'Added signing keys:',
        ...kids.map((kid) => `  ${kid}`),
        `Running servers sign with them within KEY_REFRESH_SECONDS (${config.keyRefreshSeconds} s here); the older keys stay published.`,
        'Retire an older key (keys retire --kid K) once the tokens it signed have expired: `keys list` says from when.',
      ].join('\n'),
    };
  },
};

const keysRetire: CommandSpec = {
  name: 'keys retire',
  usage: '--kid KID [--force]',
  summary: 'stop publishing a key and erase its private half; refused for the signing key, and for a recent one without --force',
  options: { kid: { type: 'string' }, force: { type: 'boolean' } },
  async run({ db }, args) {
    const kid = args.required('kid');
    // A refusal (SigningKeyError) says why and what to do; the CLI prints it on one line, exit code 1.
    const key = await retireSigningKey(db, kid, { force: args.flag('force'), operator: { actor: 'cli' } });
    return {
      json: { key: keyJson(key) },
      text: `Retired signing key ${kid} (${key.alg}): running servers stop publishing it within KEY_REFRESH_SECONDS.`,
    };
  },
};

export const keyCommands: CommandSpec[] = [keysList, keysRotate, keysRetire];
