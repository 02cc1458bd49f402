// What a CLI command is: its name, usage line and options, and a run function that returns both
// renderings of its result. cli.ts alone prints, so `--json` always means exactly one JSON object.
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { OptionSpecs, ParsedArgs } from './args.ts';

export interface CommandContext {
  config: Config;
  db: Db;
  /** Migration versions this invocation applied before running the command (usually none). */
  applied: string[];
}

export interface CommandResult {
  /** The --json rendering: snake_case wire names, as in the HTTP APIs. */
  json: Record<string, unknown>;
  /** The human rendering: lines for stdout. */
  text: string;
  /** The command already wrote its output (a stream such as `audit export`): cli.ts prints nothing more. */
  streamed?: boolean;
}

export interface CommandSpec {
  /** The command words, e.g. 'client add'. */
  name: string;
  /** Options after the name, as shown in help, e.g. '--name N [--confidential]'. */
  usage: string;
  summary: string;
  options: OptionSpecs;
  run(context: CommandContext, args: ParsedArgs): Promise<CommandResult>;
}

/** Left-aligned columns with a header row; an empty list says so instead of printing a bare header. */
export function formatTable(header: string[], rows: string[][], emptyMessage: string): string {
  if (rows.length === 0) return emptyMessage;
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all
    .map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd())
    .join('\n');
}
