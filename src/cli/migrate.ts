// `migrate`: brings the database schema up to date. Every command migrates before it runs (so the CLI
// works on an empty DATA_DIR); this one does only that and reports what it applied, and where.
import { listMigrationFiles } from '../db/migrate.ts';
import type { CommandSpec } from './command.ts';

const migrateCommand: CommandSpec = {
  name: 'migrate',
  usage: '',
  summary: 'apply pending database migrations',
  options: {},
  async run({ applied, config, db }) {
    // cli.ts already ran migrate() before calling us; `applied` is what that run did.
    const files = await listMigrationFiles();
    const names = new Map(files.map((file) => [file.version, `${file.version}_${file.name}`]));
    const appliedNames = applied.map((version) => names.get(version) ?? version);
    const current = files.at(-1)?.version ?? 'none';
    // Name the database: migrating the wrong one (a stale DATABASE_URL, another DATA_DIR) is the
    // mistake an operator would otherwise not notice.
    const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
    const summary = appliedNames.length === 0
      ? [`The database is up to date (schema version ${current}).`]
      : [`Applied ${appliedNames.length} migration${appliedNames.length === 1 ? '' : 's'}:`,
        ...appliedNames.map((name) => `  ${name}`)];
    return {
      json: { applied, current, database: db.kind },
      text: [...summary, `Database: ${where}`].join('\n'),
    };
  },
};

export const migrateCommands: CommandSpec[] = [migrateCommand];
