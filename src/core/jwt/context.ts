/**
 * The context of the JWT half of one manager, built once: the checked settings, the key ring,
 * the verifier and the two caches (verified tokens, revocations), and issuing. The operation
 * files (access.ts, refresh.ts) take it and return their functions.
 */
import { accessTokenClaims, encodeAccessToken } from '../../tokens/jwt-sign.js';
import { createAccessTokenVerifier, type AccessTokenVerifier } from '../../tokens/jwt-verify.js';
import type { ParsedOpaqueToken } from '../../tokens/opaque.js';
import { formatRefreshToken, refreshTokenParser } from '../../tokens/refresh.js';
import { createVerifiedTokenCache, type VerifiedTokenCache } from '../../tokens/token-cache.js';
import { SessionError } from '../errors.js';
import type { StoredSession } from '../types.js';
import { createKeyRing, type KeyRing } from './keyring.js';
import { createRevocationCache, type RevocationCache } from './revocation-cache.js';
import type { IssuedJwtSession, JwtSessionDeps } from './sessions.js';
import { readSettings, type JwtSessionOptions, type JwtSettings } from './settings.js';

/** The checked `jwt` option (present). */
export type JwtConfig = NonNullable<JwtSettings['jwt']>;

export interface JwtContext {
  deps: JwtSessionDeps;
  settings: JwtSettings;
  /** The checked `jwt` option, or null when JWT sessions are not configured. */
  jwt: JwtConfig | null;
  ring: KeyRing;
  verifier: AccessTokenVerifier | null;
  tokens: VerifiedTokenCache;
  revocations: RevocationCache;
  parseRefresh(token: unknown): ParsedOpaqueToken | null;
  /** The checked `jwt` option; throws `invalid_request` without it. */
  requireJwt(): JwtConfig;
  /** Signs the access token of the record's current generation. */
  issue(record: StoredSession): Promise<{ accessToken: string; accessTokenExpiresAt: Date }>;
  /** The `create`/`refresh` answer for a record whose refresh secret is `refreshSecret`. */
  issued(record: StoredSession, refreshSecret: string): Promise<IssuedJwtSession>;
}

const KEY_RELOAD_INTERVAL = 60_000;

/**
 * Checks the JWT options and builds the context (the key ring is not read until first use).
 *
 * @example const jc = jwtContext(options, deps); await jc.issued(record, refreshSecret);
 */
export function jwtContext(options: JwtSessionOptions, deps: JwtSessionDeps): JwtContext {
  const { store, now, prefix } = deps;
  const settings = readSettings(options);
  const jwt = settings.jwt;
  const masterKey = settings.masterKey ? Promise.resolve(settings.masterKey) : null;
  const ring = createKeyRing({
    store, now, algorithm: jwt?.algorithm ?? 'EdDSA',
    // Without a configured master key, one is derived from the server secret (documented: a copy
    // of the store alone then decrypts the keys when the secret also lives in the store).
    masterKey: () => masterKey ?? deps.derivedKey('signing-key-encryption'),
    verifyWindow: (jwt?.accessTokenTtl ?? 300_000) + (jwt?.clockTolerance ?? 5000) + KEY_RELOAD_INTERVAL,
    rotateEvery: jwt ? jwt.rotateEvery : 7 * 86_400_000,
    propagation: jwt?.keyPropagation ?? 120_000,
    createOnPublish: jwt !== null,
    reloadInterval: jwt ? KEY_RELOAD_INTERVAL : 0,
    onRotated(kid, previous, reason) {
      const e = deps.event('keys.rotated', null, { actor: reason === 'manual' ? null : 'key-ring' }, reason, { detail: previous ? `${kid} replaces ${previous}` : kid });
      deps.emit([e]);
      store.appendAudit([e]).catch(() => {});
    },
  });
  const verifier = jwt ? createAccessTokenVerifier({ issuer: jwt.issuer, audience: jwt.audience, clockTolerance: jwt.clockTolerance, key: ring.key }) : null;
  const tokens = createVerifiedTokenCache(jwt?.verifiedTokenCache ?? 0);
  const revocations = createRevocationCache({ now, staleness: settings.revocationStaleness, retain: (jwt?.accessTokenTtl ?? 300_000) + (jwt?.clockTolerance ?? 5000) });
  let claimsKey: Promise<Buffer> | null = null;

  function requireJwt(): JwtConfig {
    if (!jwt) throw new SessionError('invalid_request', 'JWT sessions need the jwt option: createSessionManager({ jwt: { issuer, audience } })');
    return jwt;
  }

  async function issue(record: StoredSession): Promise<{ accessToken: string; accessTokenExpiresAt: Date }> {
    const j = requireJwt();
    const key = await ring.signingKey();
    claimsKey ??= deps.derivedKey('access-token-claims');
    const claims = accessTokenClaims(record, { issuer: j.issuer, audience: j.audience, ttl: j.accessTokenTtl, derivationKey: await claimsKey });
    revocations.confirm(record.id, now());
    return { accessToken: encodeAccessToken(key, claims), accessTokenExpiresAt: new Date(claims.exp * 1000) };
  }

  async function issued(record: StoredSession, refreshSecret: string): Promise<IssuedJwtSession> {
    const { accessToken, accessTokenExpiresAt } = await issue(record);
    return {
      session: deps.toSession(record), accessToken, refreshToken: formatRefreshToken(prefix, record.id, refreshSecret),
      accessTokenExpiresAt, expiresAt: new Date(record.idleExpiresAt),
    };
  }

  return { deps, settings, jwt, ring, verifier, tokens, revocations, parseRefresh: refreshTokenParser(prefix), requireJwt, issue, issued };
}
