import { SessionError } from '../core/errors.js';

/** Exit codes of every `sessionkit` command: scripts branch on them, so they never change. */
export const EXIT_OK = 0;
/** Something failed at run time: the store is unreachable, an id is unknown. */
export const EXIT_FAILURE = 1;
/** The command line or the configuration is wrong: fixing the invocation fixes it. */
export const EXIT_USAGE = 2;

/**
 * A failure a command reports as one line on stderr, with the exit code it maps to.
 *
 * @example throw new CliError('no session with id abc', EXIT_FAILURE)
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * A usage error (exit 2): an unknown option, a missing argument, a bad value.
 *
 * @example throw usageError('sessions list: --user is required')
 */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

/**
 * A run-time failure (exit 1).
 *
 * @example throw failure(`no API key with id ${id}`)
 */
export function failure(message: string): CliError {
  return new CliError(message, EXIT_FAILURE);
}

/**
 * Maps anything a command threw to the line to print and the exit code. Configuration errors
 * (any error named `ConfigError`) and bad input are usage errors; everything else, including an
 * unreachable store, is a run-time failure. Messages are flattened to one line.
 *
 * @example const { message, exitCode } = describeFailure(err)
 */
export function describeFailure(err: unknown): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: oneLine(err.message), exitCode: err.exitCode };
  if (err instanceof Error && err.name === 'ConfigError') return { message: oneLine(err.message), exitCode: EXIT_USAGE };
  if (err instanceof SessionError) {
    return { message: oneLine(`${err.code}: ${err.message}`), exitCode: err.code === 'invalid_request' ? EXIT_USAGE : EXIT_FAILURE };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: oneLine(message), exitCode: EXIT_FAILURE };
}

/** Keeps a message on one terminal line, whatever a driver put into it. */
function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\r\n\u0000-\u001f\u007f]+/g, ' ').trim();
}
