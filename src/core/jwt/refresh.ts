/**
 * Refreshing: a refresh token is single use and rotated on every refresh; the predecessor inside
 * the grace window yields the same successor again, and an older one is theft (the session is
 * revoked and `session.refresh_reuse_detected` audited).
 */
import { looksLikeJwt } from '../../tokens/jwt-verify.js';
import { hashesEqual, hashSecret, tokenFingerprint } from '../../tokens/opaque.js';
import { SessionError, storeFailure } from '../errors.js';
import type { RequestContext, StoredSession } from '../types.js';
import type { JwtContext } from './context.js';
import { matchRefreshSecret, rotatedRecord } from './refresh-family.js';
import type { IssuedJwtSession } from './sessions.js';

const CAS_ATTEMPTS = 8;

/**
 * The JWT half's `refresh`.
 *
 * @example const refresh = refreshOperation(jc); const { accessToken, refreshToken } = await refresh(token, rc);
 */
export function refreshOperation(jc: JwtContext) {
  const { deps, settings, revocations, parseRefresh, requireJwt, issued } = jc;
  const { store, now } = deps;

  async function theft(record: StoredSession, token: string, ctx: RequestContext | undefined): Promise<never> {
    const t = now();
    const detected = deps.event('session.refresh_reuse_detected', record, ctx, 'refresh_reuse', { tokenFingerprint: tokenFingerprint(token) });
    const revoked = deps.event('session.revoked', record, ctx, 'refresh_reuse');
    let before: StoredSession | null;
    try {
      before = await store.revoke(record.id, { reason: 'refresh_reuse', at: t, events: [detected, revoked] });
      if (!before) await store.appendAudit([detected]);
    } catch (err) {
      throw storeFailure(err, 'refresh');
    }
    deps.emit(before ? [detected, revoked] : [detected]);
    revocations.markRevoked(record.id, t);
    throw new SessionError('refresh_reused', 'this refresh token was already used: the session has been revoked');
  }

  async function refresh(token: unknown, ctx?: RequestContext): Promise<IssuedJwtSession> {
    const parsed = parseRefresh(token);
    if (!parsed) {
      const otherToken = looksLikeJwt(token) || deps.isOpaqueToken(token);
      throw await deps.reject(new SessionError(otherToken ? 'token_invalid' : 'token_malformed', 'not a refresh token'), token, ctx, null, otherToken ? 'invalid' : 'malformed', 'not_a_refresh_token');
    }
    requireJwt();
    const presented = hashSecret(parsed.secret);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      let record: StoredSession | null;
      try {
        record = await store.get(parsed.id);
      } catch (err) {
        throw storeFailure(err, 'refresh');
      }
      if (!record) throw await deps.reject(new SessionError('session_not_found', 'no such session'), token, ctx, null, 'not_found');
      const t = now();
      const match = record.tokenType === 'jwt' ? matchRefreshSecret(record, presented, t) : 'unknown';
      if (match === 'unknown') throw await deps.reject(new SessionError('token_invalid', 'the refresh token is not valid'), token, ctx, null, 'invalid', 'unknown_refresh_token');
      if (record.revokedAt !== null) {
        throw await deps.reject(new SessionError('session_revoked', 'the session was revoked', { reason: record.revokeReason }), token, ctx, record, 'revoked', record.revokeReason);
      }
      if (t >= record.absoluteExpiresAt) {
        throw await deps.reject(new SessionError('session_expired', 'the session reached its absolute lifetime', { expiry: 'absolute' }), token, ctx, record, 'expired', 'absolute');
      }
      if (t >= record.idleExpiresAt) {
        throw await deps.reject(new SessionError('session_expired', 'the session expired after inactivity', { expiry: 'idle' }), token, ctx, record, 'expired', 'idle');
      }
      if (match === 'reused') return theft(record, token as string, ctx);
      if (match === 'previous') {
        // Refreshed already (another tab, a retry): the same successor and access token again.
        const successor = await deps.nextSecret(record.id, record.generation - 1, parsed.secret);
        if (!hashesEqual(hashSecret(successor), record.secretHash)) {
          throw await deps.reject(new SessionError('token_invalid', 'the refresh token was already rotated'), token, ctx, null, 'invalid', 'superseded');
        }
        return issued(record, successor);
      }
      const successor = await deps.nextSecret(record.id, record.generation, parsed.secret);
      const next = rotatedRecord(record, hashSecret(successor), t, settings.refreshGrace);
      // Signed before the rotation is stored: a signing failure must not leave the presented token
      // superseded (after the grace window the client's retry would read as reuse, i.e. theft).
      const answer = await issued(next, successor);
      const refreshed = deps.event('session.refreshed', record, ctx);
      let written: boolean;
      try {
        written = await store.replace(next, record.version, [refreshed]);
      } catch (err) {
        throw storeFailure(err, 'refresh');
      }
      if (written) {
        deps.emit([refreshed]);
        return answer;
      }
    }
    throw new SessionError('version_conflict', 'the session changed concurrently too many times; try again');
  }

  return refresh;
}
