/**
 * Checking a presented opaque token against its record: format, record, secret (current, or the
 * predecessor inside the grace window), revocation and both expiries.
 */
import { hashesEqual, hashSecret, type ParsedOpaqueToken } from '../../tokens/opaque.js';
import { SessionError, storeFailure } from '../errors.js';
import type { RequestContext, StoredSession } from '../types.js';
import type { ManagerContext } from './context.js';

/** The result of checking a presented opaque token against its record. */
export interface Authenticated {
  record: StoredSession;
  parsed: ParsedOpaqueToken;
  /** The token matched the predecessor of the current secret, inside the grace window. */
  previous: boolean;
}

/** Why a token check failed: what `reject` audits and throws. */
export interface Refusal {
  ok: false;
  error: SessionError;
  /** The record, when the failure is about a session the token did prove (revoked, expired). */
  record: StoredSession | null;
  reason: string;
  detail: string | null;
}

function refusal(error: SessionError, record: StoredSession | null, reason: string, detail: string | null = null): Refusal {
  return { ok: false, error, record, reason, detail };
}

/**
 * The checks after the store read, synchronous: `validate` calls it directly so its hot path
 * awaits nothing but the store (each extra async layer costs about a third of a SHA-256). A match
 * is a constant string (which secret matched), so the valid case allocates nothing.
 *
 * @example const outcome = checkRecord(parsed, await store.get(parsed.id), now());
 */
export function checkRecord(parsed: ParsedOpaqueToken, record: StoredSession | null, t: number): 'current' | 'previous' | Refusal {
  if (!record) return refusal(new SessionError('session_not_found', 'no such session'), null, 'not_found');
  // A JWT session's secret is its refresh token's: it must never work as an opaque session token.
  if (record.tokenType !== 'opaque') return refusal(new SessionError('token_invalid', 'the session token is not valid'), null, 'invalid', 'jwt_session');
  const presented = hashSecret(parsed.secret);
  let previous = false;
  if (!hashesEqual(presented, record.secretHash)) {
    previous = record.previousSecretHash !== null && record.previousSecretExpiresAt !== null
      && t < record.previousSecretExpiresAt && hashesEqual(presented, record.previousSecretHash);
    if (!previous) return refusal(new SessionError('token_invalid', 'the session token is not valid'), null, 'invalid');
  }
  if (record.revokedAt !== null) {
    return refusal(new SessionError('session_revoked', 'the session was revoked', { reason: record.revokeReason }), record, 'revoked', record.revokeReason);
  }
  if (t >= record.absoluteExpiresAt) {
    return refusal(new SessionError('session_expired', 'the session reached its absolute lifetime', { expiry: 'absolute' }), record, 'expired', 'absolute');
  }
  if (t >= record.idleExpiresAt) {
    return refusal(new SessionError('session_expired', 'the session expired after inactivity', { expiry: 'idle' }), record, 'expired', 'idle');
  }
  return previous ? 'previous' : 'current';
}

/**
 * Reads the record of a presented opaque token and checks it; every failure is audited and thrown.
 * Empty and null are malformed here; `token_missing` belongs to the HTTP layer (no cookie, no header).
 *
 * @example const { record, previous } = await authenticate(ctx, token, requestContext);
 */
export async function authenticate(ctx: ManagerContext, token: unknown, rc: RequestContext | undefined): Promise<Authenticated> {
  const parsed = ctx.parseToken(token);
  if (!parsed) throw await ctx.reject(new SessionError('token_malformed', 'the session token is not well-formed'), token, rc, null, 'malformed');
  let record: StoredSession | null;
  try {
    record = await ctx.store.get(parsed.id);
  } catch (err) {
    throw storeFailure(err, 'validate');
  }
  const outcome = checkRecord(parsed, record, ctx.now());
  if (typeof outcome === 'string') return { record: record as StoredSession, parsed, previous: outcome === 'previous' };
  throw await ctx.reject(outcome.error, token, rc, outcome.record, outcome.reason, outcome.detail);
}
