// Operator commands over the same stores as the server: `npm run cli -- <command> [options] [--json]`.
// Owns dispatch, the per-command lifecycle (config → db → migrate → run → close) and the exit codes.
import { z } from 'zod';
import { loadConfig } from './config.ts';
import { migrate } from './db/migrate.ts';
import { openDb } from './db/open-db.ts';
import { describeDatabase, newDatabaseWarning } from './cli/database-notice.ts';
import { parseOptions, splitCommandLine, UsageError, type ParsedArgs } from './cli/args.ts';
import type { CommandResult, CommandSpec } from './cli/command.ts';
import { clientCommands } from './cli/clients.ts';
import { clientDiagnoseCommands } from './cli/client-diagnose.ts';
import { cimdCommands } from './cli/cimd.ts';
import { auditCommands } from './cli/audit.ts';
import { adminTokenCommands } from './cli/admin-tokens.ts';
import { idJagCommands } from './cli/id-jag.ts';
import { idpCommands } from './cli/idp.ts';
import { keyCommands } from './cli/keys.ts';
import { migrateCommands } from './cli/migrate.ts';
import { policyCommands } from './cli/policies.ts';
import { resourceCommands } from './cli/resources.ts';
import { exchangeCommands } from './cli/exchange.ts';
import { userCommands } from './cli/users.ts';

const commands: CommandSpec[] = [
  ...userCommands, ...resourceCommands, ...exchangeCommands, ...clientCommands, ...clientDiagnoseCommands, ...cimdCommands, ...keyCommands, ...auditCommands, ...adminTokenCommands, ...idJagCommands, ...idpCommands, ...policyCommands, ...migrateCommands,
];

// Exit codes: 0 done; 1 the command could not be carried out (duplicate, database, configuration);
// 2 the command line is wrong and running it again unchanged will fail again.
const EXIT_OPERATIONAL = 1;
const EXIT_USAGE = 2;

function usageText(): string {
  const lines = commands.map((c) => `  ${c.name}${c.usage ? ` ${c.usage}` : ''}\n      ${c.summary}`);
  return [
    'Portcullis operator commands',
    '',
    'usage: npm run cli -- <command> [options] [--json]',
    '',
    'Commands:',
    ...lines,
    '  help',
    '      show this text (also --help, or no arguments)',
    '',
    'Every command:',
    '  --json   print exactly one JSON object on stdout, with snake_case names',
    '',
    'Configuration is read from the same environment as the server (DATA_DIR or DATABASE_URL, and the',
    'rest). Pending migrations are applied first. While a server holds an embedded DATA_DIR, commands',
    'reach its database through the socket the server serves in DATA_DIR.',
  ].join('\n');
}

function findCommand(words: string[]): CommandSpec {
  const name = words.join(' ');
  const command = commands.find((c) => c.name === name);
  if (command) return command;
  const group = commands.filter((c) => c.name.split(' ')[0] === words[0]).map((c) => c.name);
  const hint = group.length > 0 ? `did you mean ${group.join(' or ')}?` : 'run "help" to list commands';
  throw new UsageError(`unknown command ${JSON.stringify(name)}; ${hint}`);
}

async function run(argv: readonly string[]): Promise<void> {
  const { words, rest } = splitCommandLine(argv);
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  if (words.length === 0 && (rest.length === 0 || wantsHelp)) return void console.log(usageText());
  if (words.length === 0) throw new UsageError(`expected a command before ${rest[0]}; run "help" to list commands`);
  if (words.length === 1 && words[0] === 'help') return void console.log(usageText());
  const command = findCommand(words);
  if (wantsHelp) return void console.log(`usage: ${command.name} ${command.usage} [--json]\n  ${command.summary}`);
  const args = parseOptions(command.name, rest, { ...command.options, json: { type: 'boolean' } });
  const result = await runWithDatabase(command, args);
  if (!result.streamed) console.log(args.flag('json') ? JSON.stringify(result.json) : result.text);
}

async function runWithDatabase(command: CommandSpec, args: ParsedArgs): Promise<CommandResult> {
  const config = loadConfig();
  // At a terminal only: scripts (and cron, CI) read anything on a piped stderr as trouble.
  if (process.stderr.isTTY) console.error(`note: using ${describeDatabase(config)}`);
  const db = await openDb({
    databaseUrl: config.databaseUrl, dataDir: config.dataDir, role: 'cli',
    // Whatever stderr is: this is the warning a mistyped DATA_DIR needs.
    beforeCreatingDatabase: (before) => {
      const warning = newDatabaseWarning(config.dataDir, before);
      if (warning) console.error(warning);
    },
  });
  try {
    const applied = await migrate(db);
    // On stderr: stdout carries the command's result alone, which scripts parse.
    if (applied.length > 0 && command.name !== 'migrate') console.error(`note: applied migrations ${applied.join(', ')}`);
    return await command.run({ config, db, applied }, args);
  } finally {
    // Closing releases the DATA_DIR lock (or the server's socket) for the next command.
    await db.close();
  }
}

// Store inputs are camelCase; the operator typed options. Name the option in messages.
const OPTION_FOR_FIELD: Record<string, string> = {
  email: '--email', password: '--password', uri: '--uri', name: '--name', scopes: '--scope',
  accessTokenTtlSeconds: '--ttl', redirectUris: '--redirect-uri', resource: '--resource',
  mode: '--mode', domain: '--domain', clientId: '--client-id',
  domains: '--domain', displayName: '--display-name', issuer: '--issuer', preset: '--preset', tenant: '--tenant',
  clientSecret: '--client-secret', emailClaim: '--email-claim', groupsClaim: '--groups-claim',
  from: '--from', to: '--to', jwks: '--jwks', jwksUri: '--jwks-uri', claim: '--claim', maxRisk: '--max-risk',
};

function describeIssue(issue: z.core.$ZodIssue): string {
  const [field] = issue.path;
  const option = typeof field === 'string' ? OPTION_FOR_FIELD[field] ?? field : undefined;
  return option === undefined ? issue.message : `${option}: ${issue.message}`;
}

/** One line for any error: a stack trace tells an operator nothing they can act on. */
function describeError(error: unknown): { code: number; message: string } {
  if (error instanceof UsageError) return { code: EXIT_USAGE, message: error.message };
  // Input the schemas refused (an invalid URI, a too-short password, a TTL out of range): a usage error.
  if (error instanceof z.ZodError) {
    return { code: EXIT_USAGE, message: error.issues.map(describeIssue).join('; ') };
  }
  if (error instanceof AggregateError && error.message === '') {
    // A refused connection to a dual-stack host: the reasons are in the inner errors.
    const reasons = error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner)));
    return { code: EXIT_OPERATIONAL, message: [...new Set(reasons)].join('; ') || 'connection failed' };
  }
  if (error instanceof Error) {
    // Our own errors (ConfigError, EmailTakenError, DataDirInUseError …) have messages written for
    // operators; for built-in ones, the class name adds the kind ("TypeError: …").
    const kind = ['TypeError', 'RangeError', 'SyntaxError'].includes(error.name) ? `${error.name}: ` : '';
    return { code: EXIT_OPERATIONAL, message: `${kind}${error.message}` };
  }
  return { code: EXIT_OPERATIONAL, message: String(error) };
}

run(process.argv.slice(2)).catch((error: unknown) => {
  const { code, message } = describeError(error);
  console.error(`error: ${message}`);
  // exitCode, not exit(): let stdout/stderr drain; the database is already closed.
  process.exitCode = code;
});
