/**
 * Validating access tokens: signature and claims (through the verified-token cache), then the
 * revocation check the manager was configured with (`always`, `cached`, `never`).
 */
import { looksLikeJwt, type AccessTokenClaims } from '../../tokens/jwt-verify.js';
import { hashSecret } from '../../tokens/opaque.js';
import { SessionError, storeFailure } from '../errors.js';
import type { PolicyResolver } from '../policy.js';
import type { RequestContext, Session, StoredSession } from '../types.js';
import type { JwtContext } from './context.js';
import { matchRefreshSecret } from './refresh-family.js';

const UNKNOWN_DEVICE = { userAgent: null, ip: null, label: null, browser: null, os: null, type: 'unknown' } as const;

/**
 * The session as an access token describes it (no store read).
 *
 * @example claimsView(claims, resolvePolicy).userId // claims.sub
 */
export function claimsView(c: AccessTokenClaims, resolvePolicy: PolicyResolver): Session {
  const policy = resolvePolicy(c.roles);
  const authenticatedAt = new Date((c.auth_time ?? c.iat) * 1000);
  const expiresAt = new Date(c.exp * 1000);
  return {
    id: c.sid, userId: c.sub, roles: [...c.roles], createdAt: authenticatedAt, lastSeenAt: new Date(c.iat * 1000),
    idleExpiresAt: expiresAt, absoluteExpiresAt: new Date(c.exp * 1000), idleTimeout: policy.idleTimeout,
    absoluteTimeout: policy.absoluteTimeout, policy: policy.policy, authenticatedAt: new Date(authenticatedAt),
    authMethods: c.amr ? [...c.amr] : [], device: { ...UNKNOWN_DEVICE }, data: {}, version: 0, tokenType: 'jwt',
  };
}

/**
 * The JWT half's `validate` and `sessionIdOf`.
 *
 * @example const { validate } = accessTokenOperations(jc); const session = await validate(accessToken, rc);
 */
export function accessTokenOperations(jc: JwtContext) {
  const { deps, settings, jwt, ring, verifier, tokens, revocations, parseRefresh, requireJwt } = jc;
  const { store, now } = deps;
  const lookups = new Map<string, Promise<StoredSession | null>>();

  /** Verifies signature and claims (cache first); throws the audited rejection. */
  async function verified(token: string, ctx: RequestContext | undefined, cacheKey: string | null): Promise<AccessTokenClaims> {
    const j = requireJwt();
    if (!ring.loaded) await ring.ensureLoaded();
    let outcome = (verifier as NonNullable<typeof verifier>).verify(token, now());
    if (!outcome.ok && outcome.reason === 'unknown_kid' && await ring.reloadForUnknownKid()) {
      outcome = (verifier as NonNullable<typeof verifier>).verify(token, now());
    }
    if (!outcome.ok) {
      if (outcome.reason === 'expired') {
        throw await deps.reject(new SessionError('session_expired', 'the access token has expired', { expiry: 'access_token' }), token, ctx, null, 'expired', 'access_token');
      }
      throw await deps.reject(new SessionError('token_invalid', 'the access token is not valid'), token, ctx, null, 'invalid', outcome.reason);
    }
    if (cacheKey !== null) tokens.set(cacheKey, { claims: outcome.claims, expiresAt: outcome.claims.exp * 1000 + j.clockTolerance });
    return outcome.claims;
  }

  /** One store read per session id at a time, however many validations wait for it. */
  function lookUp(sessionId: string): Promise<StoredSession | null> {
    let pending = lookups.get(sessionId);
    if (!pending) {
      pending = store.get(sessionId).finally(() => lookups.delete(sessionId));
      lookups.set(sessionId, pending);
    }
    return pending;
  }

  /** Checks the stored session behind a verified token; throws the audited rejection. */
  async function checkRecord(claims: AccessTokenClaims, token: string, ctx: RequestContext | undefined): Promise<StoredSession> {
    const asked = now();
    let record: StoredSession | null;
    try {
      record = await lookUp(claims.sid);
    } catch (err) {
      throw storeFailure(err, 'validate');
    }
    const who = { id: claims.sid, userId: claims.sub };
    if (!record) throw await deps.reject(new SessionError('session_not_found', 'no such session'), token, ctx, who, 'not_found');
    if (record.userId !== claims.sub || record.tokenType !== 'jwt') {
      throw await deps.reject(new SessionError('token_invalid', 'the access token is not valid'), token, ctx, null, 'invalid', 'session_mismatch');
    }
    if (record.revokedAt !== null) {
      revocations.markRevoked(record.id, record.revokedAt);
      throw await deps.reject(new SessionError('session_revoked', 'the session was revoked', { reason: record.revokeReason }), token, ctx, record, 'revoked', record.revokeReason);
    }
    const t = now();
    if (t >= record.absoluteExpiresAt || t >= record.idleExpiresAt) {
      const expiry = t >= record.absoluteExpiresAt ? 'absolute' : 'idle';
      throw await deps.reject(new SessionError('session_expired', 'the session has expired', { expiry }), token, ctx, record, 'expired', expiry);
    }
    revocations.confirm(record.id, asked);
    return record;
  }

  async function validate(token: string, ctx?: RequestContext): Promise<Session> {
    if (!jwt) throw await deps.reject(new SessionError('token_invalid', 'the access token is not valid'), token, ctx, null, 'invalid', 'jwt_not_configured');
    let cacheKey: string | null = null;
    let claims: AccessTokenClaims | undefined;
    if (tokens.enabled) {
      cacheKey = tokens.keyOf(token);
      claims = tokens.get(cacheKey, now())?.claims;
    }
    claims ??= await verified(token, ctx, cacheKey);
    switch (settings.checkRevocation) {
      case 'never':
        return claimsView(claims, deps.resolvePolicy);
      case 'always':
        return deps.toSession(await checkRecord(claims, token, ctx));
      default:
        if (revocations.isRevoked(claims.sid)) {
          if (cacheKey !== null) tokens.delete(cacheKey);
          throw await deps.reject(new SessionError('session_revoked', 'the session was revoked'), token, ctx, { id: claims.sid, userId: claims.sub }, 'revoked');
        }
        if (!revocations.isTrusted(claims.sid)) await checkRecord(claims, token, ctx);
        return claimsView(claims, deps.resolvePolicy);
    }
  }

  /** The session a refresh or access token proves its holder owns (for `replaces`), or null. */
  async function sessionIdOf(token: unknown): Promise<string | null> {
    const parsed = parseRefresh(token);
    if (parsed) {
      let record: StoredSession | null;
      try {
        record = await store.get(parsed.id);
      } catch (err) {
        throw storeFailure(err, 'create');
      }
      if (!record || record.tokenType !== 'jwt') return null;
      const match = matchRefreshSecret(record, hashSecret(parsed.secret), now());
      return match === 'current' || match === 'previous' ? record.id : null;
    }
    if (looksLikeJwt(token) && verifier) {
      await ring.ensureLoaded();
      const outcome = verifier.verify(token, now());
      return outcome.ok ? outcome.claims.sid : null;
    }
    return null;
  }

  return { validate, sessionIdOf };
}
