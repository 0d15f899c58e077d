/**
 * Validating and renewing opaque tokens (JWTs are handed to the JWT half). `validate` is the hot
 * path of every request: one store read, synchronous checks, and at most one throttled touch.
 */
import { looksLikeJwt } from '../../tokens/jwt-verify.js';
import { formatOpaqueToken, hashesEqual, hashSecret } from '../../tokens/opaque.js';
import { SessionError, storeFailure } from '../errors.js';
import type { RequestContext, Session, StoredSession } from '../types.js';
import { authenticate, checkRecord } from './authenticate.js';
import type { ManagerContext } from './context.js';
import { CAS_ATTEMPTS } from './inputs.js';
import { toSession } from './session-view.js';
import type { IssuedSession } from './types.js';

/** The sliding write happens at least every 1/TOUCH_SHARE_OF_IDLE of a session's idle timeout. */
export const TOUCH_SHARE_OF_IDLE = 4;

/**
 * The manager's `validate` and `renew`.
 *
 * @example const { validate } = validationOperations(ctx); const session = await validate(token);
 */
export function validationOperations(ctx: ManagerContext) {
  const { store, now, touchInterval, renewGrace, prefix, parseToken, jwt, reject } = ctx;

  async function validate(token: unknown, rc?: RequestContext): Promise<Session> {
    // A JWT is told apart by its first characters (`eyJ`, which no token prefix can start with).
    if (looksLikeJwt(token)) return jwt.validate(token, rc);
    // authenticate(), inlined: the hot path of every request awaits only the store read.
    const parsed = parseToken(token);
    if (!parsed) {
      if (jwt.isRefreshToken(token)) {
        throw await reject(new SessionError('token_invalid', 'a refresh token is not an access token'), token, rc, null, 'invalid', 'refresh_token');
      }
      throw await reject(new SessionError('token_malformed', 'the session token is not well-formed'), token, rc, null, 'malformed');
    }
    let stored: StoredSession | null;
    try {
      stored = await store.get(parsed.id);
    } catch (err) {
      throw storeFailure(err, 'validate');
    }
    const t = now();
    const outcome = checkRecord(parsed, stored, t);
    if (typeof outcome !== 'string') throw await reject(outcome.error, token, rc, outcome.record, outcome.reason, outcome.detail);
    const record = stored as StoredSession;
    // The sliding write is due after touchInterval, or after a quarter of the record's own idle
    // timeout (its role policy's) if that is shorter: a session used at least every three quarters
    // of its idle timeout is touched before it could idle out, whatever touchInterval says.
    if (t - record.lastSeenAt >= Math.min(touchInterval, record.idleTimeout / TOUCH_SHARE_OF_IDLE)) {
      const idleExpiresAt = Math.min(t + record.idleTimeout, record.absoluteExpiresAt);
      try {
        await store.touch(record.id, t, idleExpiresAt);
      } catch (err) {
        throw storeFailure(err, 'touch');
      }
      // The record itself stays as read (a store may hand out a shared, frozen one): the Session shows the touch.
      const session = toSession(record);
      session.lastSeenAt = new Date(t);
      session.idleExpiresAt = new Date(idleExpiresAt);
      return session;
    }
    return toSession(record);
  }

  async function renew(token: unknown, rc?: RequestContext): Promise<IssuedSession> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      const { record, parsed, previous } = await authenticate(ctx, token, rc);
      if (previous) {
        // Renewed already (another tab, a retry): hand out the same successor, never a second one.
        const successor = await ctx.nextSecret(record.id, record.generation - 1, parsed.secret);
        if (!hashesEqual(hashSecret(successor), record.secretHash)) {
          throw await reject(new SessionError('token_invalid', 'the session token was already renewed'), token, rc, null, 'invalid', 'superseded');
        }
        return { session: toSession(record), token: formatOpaqueToken(prefix, record.id, successor), expiresAt: new Date(record.idleExpiresAt) };
      }
      const t = now();
      const successor = await ctx.nextSecret(record.id, record.generation, parsed.secret);
      const next: StoredSession = {
        ...record, secretHash: hashSecret(successor), previousSecretHash: record.secretHash,
        previousSecretExpiresAt: t + renewGrace, generation: record.generation + 1,
        lastSeenAt: t, idleExpiresAt: Math.min(t + record.idleTimeout, record.absoluteExpiresAt),
        version: record.version + 1,
      };
      const renewed = ctx.event('session.renewed', record, rc);
      let written: boolean;
      try {
        written = await store.replace(next, record.version, [renewed]);
      } catch (err) {
        throw storeFailure(err, 'renew');
      }
      if (written) {
        ctx.emit([renewed]);
        return { session: toSession(next), token: formatOpaqueToken(prefix, record.id, successor), expiresAt: new Date(next.idleExpiresAt) };
      }
    }
    throw new SessionError('version_conflict', 'the session changed concurrently too many times; try again');
  }

  return { validate, renew };
}
