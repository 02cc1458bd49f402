// Runs a CLI command's own code in this process against a test database (what `npm run cli` does,
// without a child process): for tests that need an operator's action, not the CLI's process plumbing.
import { parseOptions } from '../../src/cli/args.ts';
import type { CommandSpec } from '../../src/cli/command.ts';
import { auditCommands } from '../../src/cli/audit.ts';
import { clientCommands } from '../../src/cli/clients.ts';
import { keyCommands } from '../../src/cli/keys.ts';
import { policyCommands } from '../../src/cli/policies.ts';
import { resourceCommands } from '../../src/cli/resources.ts';
import { userCommands } from '../../src/cli/users.ts';
import { loadConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/db.ts';
import { ISSUER, TEST_SECRETS } from '../helpers/test-app.ts';

const commands: CommandSpec[] = [...userCommands, ...resourceCommands, ...clientCommands, ...keyCommands, ...auditCommands, ...policyCommands];

/** `environment`: more settings for the command's configuration (CIMD_ALLOW_LOOPBACK, say). */
export async function runCommand(db: Db, argv: string[], environment: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const words = argv.filter((_, index) => index < argv.findIndex((arg) => arg.startsWith('-')) || !argv.some((arg) => arg.startsWith('-')));
  const command = commands.find((c) => c.name === words.join(' '));
  if (!command) throw new Error(`no command ${words.join(' ')}`);
  const config = loadConfig({
    ISSUER, COOKIE_KEYS: TEST_SECRETS.cookieKeys.join(','), KEY_ENCRYPTION_SECRET: TEST_SECRETS.keyEncryptionSecret, ...environment,
  });
  const args = parseOptions(command.name, argv.slice(words.length), { ...command.options, json: { type: 'boolean' } });
  return (await command.run({ config, db, applied: [] }, args)).json;
}
