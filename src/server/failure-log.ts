/**
 * What the service logs about a failed request it answers with a 5xx: the code, the status and
 * the cause (the error's message and those of its causes), so an operator learns why without a
 * debugger. Messages hold no tokens or keys (SessionError messages never do); a password inside a
 * connection URL that a driver quoted is masked all the same.
 */
import { SessionError } from '../core/errors.js';

const MAX_CAUSES = 5;

/** The message of an error and of each of its causes, `: `-joined, passwords in URLs masked. */
export function causeOf(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let i = 0; i < MAX_CAUSES && current !== undefined && current !== null; i += 1) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && !parts.includes(message)) parts.push(message);
    current = current instanceof Error ? (current as Error & { cause?: unknown }).cause : undefined;
  }
  return parts.join(': ').replace(/\/\/([^/@:\s]*):[^/@\s]*@/g, '//$1:***@');
}

/**
 * The log fields of a 5xx: `{ status, code, cause }`.
 *
 * @example request.log.error(failureFields(err, 503), 'request failed')
 */
export function failureFields(err: unknown, status: number): { status: number; code: string; cause: string } {
  return { status, code: err instanceof SessionError ? err.code : 'internal_error', cause: causeOf(err) };
}
