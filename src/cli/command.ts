import type { OptionSpec, ParsedCommandLine } from './args.js';
import { usageError } from './errors.js';
import type { CliIo } from './output.js';

/** What every command gets besides its parsed arguments. */
export interface CommandContext {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long-running commands (`serve`, `audit tail`) stop cleanly. */
  signal: AbortSignal;
}

/** One `sessionkit` command: its words, its help and what it does. */
export interface Command {
  /** The words that select it, e.g. `['sessions', 'list']`. */
  path: string[];
  summary: string;
  /** The synopsis after `sessionkit `, e.g. `sessions list --user <id> [--json]`. */
  usage: string;
  /** A few lines shown by `--help` below the options (examples, exit codes, notes). */
  details?: string;
  options: Record<string, OptionSpec>;
  /** How many positional arguments it takes (default 0). */
  maxPositionals?: number;
  /** Whether it reads the service configuration (and so accepts every configuration flag). */
  usesConfig: boolean;
  /** Resolves with the exit code; throws `CliError` (or anything) for failures. */
  run(args: ParsedCommandLine, ctx: CommandContext): Promise<number>;
}

/** The `--json` option shared by every command that prints something a script may read. */
export const jsonOption: Record<'json', OptionSpec> = {
  json: { type: 'boolean', description: 'print JSON instead of text' },
};

/**
 * The value of a string option that must be present, or a usage error naming it.
 *
 * @example const userId = requiredString(args, 'user', 'sessions list')
 */
export function requiredString(args: ParsedCommandLine, name: string, command: string): string {
  const value = args.values[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw usageError(`${command}: --${name} is required`);
  }
  return value;
}

/**
 * The one positional argument a command needs, or a usage error naming it.
 *
 * @example const id = requiredPositional(args, 'id', 'sessions revoke')
 */
export function requiredPositional(args: ParsedCommandLine, name: string, command: string): string {
  const value = args.positionals[0];
  if (value === undefined || value.length === 0) throw usageError(`${command}: the <${name}> argument is required`);
  return value;
}
