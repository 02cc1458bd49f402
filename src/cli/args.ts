// The CLI's argument parser: splits `<command words> --options` and parses the options strictly with
// node's util.parseArgs. Owns UsageError, the one error that means "exit 2, the operator typed it wrong".
import { parseArgs } from 'node:util';
import { hostileStringReason } from '../input/hostile-values.ts';

/** Bad or missing arguments, an unknown command: the operator should fix the command line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean };
export type OptionSpecs = Record<string, OptionSpec>;

/** Typed access to parsed option values; every getter checks the kind it returns. */
export interface ParsedArgs {
  string(name: string): string | undefined;
  required(name: string): string;
  strings(name: string): string[];
  flag(name: string): boolean;
}

export interface CommandLine {
  /** The leading words before the first option, e.g. ['client', 'add']. */
  words: string[];
  /** Everything from the first option on. */
  rest: string[];
}

export function splitCommandLine(argv: readonly string[]): CommandLine {
  const firstOption = argv.findIndex((arg) => arg.startsWith('-'));
  const end = firstOption === -1 ? argv.length : firstOption;
  return { words: argv.slice(0, end), rest: argv.slice(end) };
}

/** Parses `rest` against `options`; unknown options, stray words and missing values are UsageErrors. */
export function parseOptions(command: string, rest: readonly string[], options: OptionSpecs): ParsedArgs {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...rest], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(`${command}: ${describeParseError(error)}`);
  }
  refuseHostileValues(command, values);
  const strings = (name: string): string[] => {
    const value = values[name];
    const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
    return list.filter((item): item is string => typeof item === 'string');
  };
  return {
    strings,
    string(name) {
      const list = strings(name);
      if (list.length > 1) throw new UsageError(`${command}: --${name} may be given only once`);
      return list[0];
    },
    required(name) {
      const value = this.string(name);
      if (value === undefined || value === '') throw new UsageError(`${command}: --${name} is required`);
      return value;
    },
    flag(name) {
      return values[name] === true;
    },
  };
}

/** A value the database cannot store (NUL, a lone surrogate: hostile-values.ts) is the operator's typo, not a crash. */
function refuseHostileValues(command: string, values: Record<string, string | boolean | (string | boolean)[] | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    for (const item of [value].flat()) {
      const reason = typeof item === 'string' ? hostileStringReason(item) : undefined;
      if (reason) throw new UsageError(`${command}: --${name} ${reason}, which cannot be stored`);
    }
  }
}

// parseArgs' messages are good but long ("To specify a positional argument starting with a '-' …");
// keep one short line for the cases an operator actually hits.
function describeParseError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(--?[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? message}: options take the form --name value`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (!option) return message;
      if (message.includes('does not take an argument')) return `${option} takes no value`;
      // A value that starts with '-' (a self-registered client_id can) must be attached: --id=-abc.
      if (message.includes('ambiguous')) return `${option}'s value starts with '-': write it as ${option}=VALUE`;
      return `${option} needs a value`;
    default:
      return message;
  }
}

/** `NAME=VALUE` where VALUE has no '=' (a risk class): splits at the last '=', since NAME may hold one. */
export function splitPair(command: string, option: string, text: string, shape: string): [string, string] {
  const at = text.lastIndexOf('=');
  if (at <= 0 || at === text.length - 1) {
    throw new UsageError(`${command}: --${option} expects ${shape}, got ${JSON.stringify(text)}`);
  }
  return [text.slice(0, at), text.slice(at + 1)];
}
