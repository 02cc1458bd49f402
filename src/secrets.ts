// Server secrets (cookie keys, the signing-key encryption secret): from config when set, otherwise
// generated once and kept in DATA_DIR/secrets.json (mode 0600). Never logged, never stored in the DB.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Config } from './config.ts';
import { ensurePrivateDataDir } from './db/data-dir-modes.ts';

export interface Secrets {
  cookieKeys: string[];
  keyEncryptionSecret: string;
}

const storedSecretsSchema = z.object({
  cookieKeys: z.array(z.string().min(32)).min(1),
  keyEncryptionSecret: z.string().min(32),
});

const newSecret = () => randomBytes(32).toString('base64url');

function readOrCreateStoredSecrets(dataDir: string): Secrets {
  const path = join(dataDir, 'secrets.json');
  // secrets.json may be the first thing in DATA_DIR (created private), or sit in one an older version
  // left loose (tightened): either way before it is read or written.
  ensurePrivateDataDir(dataDir);
  try {
    return storedSecretsSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${path} is unreadable or malformed; restore it or set COOKIE_KEYS and KEY_ENCRYPTION_SECRET`);
    }
  }
  const created: Secrets = { cookieKeys: [newSecret()], keyEncryptionSecret: newSecret() };
  // 'wx': if another process created it a moment ago, fail and read theirs instead of overwriting.
  try {
    writeFileSync(path, JSON.stringify(created, null, 2), { mode: 0o600, flag: 'wx' });
    return created;
  } catch {
    return storedSecretsSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  }
}

export function loadSecrets(config: Pick<Config, 'cookieKeys' | 'keyEncryptionSecret' | 'dataDir'>): Secrets {
  if (config.cookieKeys && config.keyEncryptionSecret) {
    return { cookieKeys: config.cookieKeys, keyEncryptionSecret: config.keyEncryptionSecret };
  }
  const stored = readOrCreateStoredSecrets(config.dataDir);
  return {
    cookieKeys: config.cookieKeys ?? stored.cookieKeys,
    keyEncryptionSecret: config.keyEncryptionSecret ?? stored.keyEncryptionSecret,
  };
}
