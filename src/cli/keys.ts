// `keys list`, `keys rotate` and `keys retire`: the signing keys' lifecycle. Running servers see every
// change within KEY_REFRESH_SECONDS, without a restart.
import { CLI_OPERATOR } from '../audit/operator.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { keyJson, listKeys, retireKey, rotatedKeysJson, rotateKeys, type KeyServiceDeps } from '../keys/service.ts';
import { loadSecrets } from '../secrets.ts';
import { formatTable, type CommandSpec } from './command.ts';

const minute = (date: Date | null) => (date ? date.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z') : '-');
// Activation is seconds away after a rotation: the minute alone would hide when it happens.
const second = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

// No refresh: this process serves nothing; running servers notice on their key check.
const keyService = (db: Db, config: Config): KeyServiceDeps => ({
  db, keyEncryptionSecret: loadSecrets(config).keyEncryptionSecret, publishAheadSeconds: config.keyPublishAheadSeconds,
});

const keysList: CommandSpec = {
  name: 'keys list',
  usage: '',
  summary: 'list signing keys: pending (published, signs from its activation), signing, verifying (published for tokens it signed), retired',
  options: {},
  async run({ db }) {
    const keys = await listKeys(db);
    return {
      json: { keys: keys.map(keyJson) },
      text: formatTable(
        ['KID', 'ALG', 'STATUS', 'CREATED', 'SIGNS FROM', 'RETIRABLE FROM', 'RETIRED'],
        keys.map((key) => [
          key.kid, key.alg, key.status, minute(key.createdAt), second(key.activatesAt), minute(key.retirableAt), minute(key.retiredAt),
        ]),
        'No signing keys yet: the server creates them at its first start.',
      ),
    };
  },
};

const keysRotate: CommandSpec = {
  name: 'keys rotate',
  usage: '[--now]',
  summary: 'add a new signing key per algorithm, published at once and signing after KEY_PUBLISH_AHEAD_SECONDS (--now: at once, for a compromised key)',
  options: { now: { type: 'boolean' } },
  async run({ db, config }, args) {
    // Refused with KeyDecryptionError when KEY_ENCRYPTION_SECRET cannot read the current keys.
    const rotated = await rotateKeys(keyService(db, config), { now: args.flag('now') }, CLI_OPERATOR);
    const { kids, activatesAt, publishedAheadSeconds } = rotated;
    const refresh = `KEY_REFRESH_SECONDS (${config.keyRefreshSeconds} s here)`;
    const when = publishedAheadSeconds === 0
      ? [
        `Running servers sign with them within ${refresh}, without publishing them first: resource servers that`,
        'fetched our JWKS in the last 30 s may refuse the new tokens for up to 30 s (their refetch cooldown).',
      ]
      : [
        `Running servers publish them within ${refresh} and sign with them from ${second(activatesAt)}`,
        `(in ${publishedAheadSeconds} s, KEY_PUBLISH_AHEAD_SECONDS), so resource servers already hold them. For a compromised key, rotate --now.`,
      ];
    return {
      json: rotatedKeysJson(rotated),
      text: [
        'Added signing keys:',
        ...kids.map((kid) => `  ${kid}`),
        ...when,
        'The older keys stay published. Retire one (keys retire --kid K) once the tokens it signed have expired: `keys list` says from when.',
      ].join('\n'),
    };
  },
};

const keysRetire: CommandSpec = {
  name: 'keys retire',
  usage: '--kid KID [--force]',
  summary: 'stop publishing a key and erase its private half; refused for the signing key, and for a recent or pending one without --force',
  options: { kid: { type: 'string' }, force: { type: 'boolean' } },
  async run({ db }, args) {
    const kid = args.required('kid');
    // A refusal (coded by the service) says why and what to do; the CLI prints it on one line, exit code 1.
    const key = await retireKey({ db }, { kid, force: args.flag('force') }, CLI_OPERATOR);
    return {
      json: { key: keyJson(key) },
      text: `Retired signing key ${kid} (${key.alg}): running servers stop publishing it within KEY_REFRESH_SECONDS.`,
    };
  },
};

export const keyCommands: CommandSpec[] = [keysList, keysRotate, keysRetire];
