/** CSRF tokens: an HMAC of the session id under a key derived from the server secret, so nothing is stored. */
import { createHmac } from 'node:crypto';
import { hashesEqual } from '../../tokens/opaque.js';
import type { ManagerContext } from './context.js';

/**
 * The manager's `csrfToken` and `verifyCsrfToken`.
 *
 * @example const { csrfToken } = csrfOperations(ctx); res.setHeader('x-csrf-token', await csrfToken(session.id));
 */
export function csrfOperations(ctx: ManagerContext) {
  /** The CSRF token of a session: an HMAC of its id, so nothing is stored for it. */
  async function csrfToken(sessionId: string): Promise<string> {
    return createHmac('sha256', await ctx.derivedKey('csrf')).update(sessionId).digest('base64url');
  }

  async function verifyCsrfToken(sessionId: string, presented: unknown): Promise<boolean> {
    if (typeof presented !== 'string' || presented.length !== 43) return false;
    const expected = await csrfToken(sessionId);
    return hashesEqual(Buffer.from(expected).toString('hex'), Buffer.from(presented).toString('hex'));
  }

  return { csrfToken, verifyCsrfToken };
}
