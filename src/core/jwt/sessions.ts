/**
 * JWT sessions: short-lived access tokens over a stored session, opaque single-use refresh tokens
 * rotated on every refresh, the key ring, and revocation of stateless tokens. The manager owns the
 * store, clock and audit; this module gets them as dependencies and keeps the JWT logic in one place.
 */
import { SessionError, storeFailure } from '../errors.js';
import { parseDuration, type Duration } from '../duration.js';
import type { PolicyResolver } from '../policy.js';
import type { AuditEvent, AuditEventType, RequestContext, Session, StoredSession } from '../types.js';
import type { SessionStore } from '../store.js';
import { isJwtAlgorithm, type JwtAlgorithm } from '../../tokens/jwt-algorithms.js';
import { accessTokenClaims, encodeAccessToken } from '../../tokens/jwt-sign.js';
import { createAccessTokenVerifier, looksLikeJwt, type AccessTokenClaims } from '../../tokens/jwt-verify.js';
import { parseMasterKey } from '../../tokens/key-encryption.js';
import { createKeyRing, type ImportKeyInput, type SigningKeyInfo } from './keyring.js';
import { hashesEqual, hashSecret, tokenFingerprint } from '../../tokens/opaque.js';
import { formatRefreshToken, refreshTokenParser } from '../../tokens/refresh.js';
import { matchRefreshSecret, rotatedRecord } from './refresh-family.js';
import { createRevocationCache } from './revocation-cache.js';
import { createVerifiedTokenCache } from '../../tokens/token-cache.js';

/** The `jwt` option of `createSessionManager`. */
export interface JwtOptions {
  /** The `iss` of every access token, checked on verification. */
  issuer: string;
  /** The `aud` of every access token, checked on verification. */
  audience: string;
  /** Signing algorithm of new keys. Default `'EdDSA'` (Ed25519). */
  algorithm?: JwtAlgorithm;
  /** Access-token lifetime (each token gets up to 5 % less, as jitter). Default `'5m'`. */
  accessTokenTtl?: Duration;
  /** Clock skew allowed on `exp`, `nbf` and `iat`. Default `'5s'`. */
  clockTolerance?: Duration;
  /** Rotate the signing key this often, or `false`. Default `'7d'`. */
  rotateEvery?: Duration | false;
  /** Verified access tokens remembered (by hash). Default 10,000; 0 turns the cache off. */
  verifiedTokenCache?: number;
}

/**
 * How `validate` checks that the session of an access token was not revoked:
 * `'always'` one store read per validation; `'cached'` (default) a local revocation set kept fresh
 * by `store.watch`, with a store read whenever it cannot vouch for freshness within
 * `revocationStaleness`; `'never'` not at all (a revoked session's access tokens work until `exp`).
 */
export type RevocationCheck = 'always' | 'cached' | 'never';

export interface JwtSessionOptions {
  jwt?: JwtOptions;
  /** 32 bytes that encrypt private signing keys at rest (`SESSIONKIT_MASTER_KEY`). */
  masterKey?: string | Uint8Array;
  checkRevocation?: RevocationCheck;
  /** With `'cached'`: the longest a revocation may go unnoticed. Default `'1s'`. */
  revocationStaleness?: Duration;
  /** How long a just-rotated refresh token still yields the same new pair. Default `'10s'`, at most `'300s'`. */
  refreshGrace?: Duration;
}

/** What `create({ tokenType: 'jwt' })` and `refresh()` return. */
export interface IssuedJwtSession {
  session: Session;
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: Date;
  /** When the refresh token stops working unless used (the session's idle expiry). */
  expiresAt: Date;
}

/** What the manager lends this module. */
export interface JwtSessionDeps {
  store: SessionStore;
  now: () => number;
  prefix: string;
  resolvePolicy: PolicyResolver;
  derivedKey(purpose: string): Promise<Buffer>;
  nextSecret(id: string, generation: number, secret: string): Promise<string>;
  reject(error: SessionError, token: unknown, ctx: RequestContext | undefined, s: { id: string; userId: string } | null, reason: string, detail?: string | null): Promise<SessionError>;
  event(type: AuditEventType, s: { id: string; userId: string } | null, ctx: RequestContext | undefined, reason?: string | null, extra?: Partial<AuditEvent>): AuditEvent;
  emit(events: AuditEvent[]): void;
  toSession(record: StoredSession): Session;
  isOpaqueToken(token: unknown): boolean;
}

const CAS_ATTEMPTS = 8;
const KEY_RELOAD_INTERVAL = 60_000;
const UNKNOWN_DEVICE = { userAgent: null, ip: null, label: null, browser: null, os: null, type: 'unknown' } as const;

/**
 * Builds the JWT half of a session manager.
 *
 * @example const jwt = createJwtSessions(options, deps); const s = await jwt.validate(accessToken, ctx);
 */
export function createJwtSessions(options: JwtSessionOptions, deps: JwtSessionDeps) {
  const { store, now, prefix } = deps;
  const settings = readSettings(options);
  const jwt = settings.jwt;
  const parseRefresh = refreshTokenParser(prefix);

  const masterKey = settings.masterKey ? Promise.resolve(settings.masterKey) : null;
  const ring = createKeyRing({
    store, now, algorithm: jwt?.algorithm ?? 'EdDSA',
    // Without a configured master key, one is derived from the server secret (documented: a copy
    // of the store alone then decrypts the keys when the secret also lives in the store).
    masterKey: () => masterKey ?? deps.derivedKey('signing-key-encryption'),
    verifyWindow: (jwt?.accessTokenTtl ?? 300_000) + (jwt?.clockTolerance ?? 5000) + KEY_RELOAD_INTERVAL,
    rotateEvery: jwt ? jwt.rotateEvery : 7 * 86_400_000,
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
  const lookups = new Map<string, Promise<StoredSession | null>>();
  let claimsKey: Promise<Buffer> | null = null;

  ring.onChange(() => {
    tokens.clear();
    verifier?.reset();
  });
  let unwatch: (() => void) | null = null;
  if (jwt) {
    unwatch = store.watch((change) => {
      if (change.type === 'keys') ring.reload().catch(() => {});
      else revocations.signal(change);
    });
    ring.start();
  }

  function requireJwt(): NonNullable<typeof jwt> {
    if (!jwt) throw new SessionError('invalid_request', 'JWT sessions need the jwt option: createSessionManager({ jwt: { issuer, audience } })');
    return jwt;
  }

  /** Signs the access token of the record's current generation. */
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

  /** The session as the access token describes it (no store read). */
  function claimsView(c: AccessTokenClaims): Session {
    const policy = deps.resolvePolicy(c.roles);
    const authenticatedAt = new Date((c.auth_time ?? c.iat) * 1000);
    const expiresAt = new Date(c.exp * 1000);
    return {
      id: c.sid, userId: c.sub, roles: [...c.roles], createdAt: authenticatedAt, lastSeenAt: new Date(c.iat * 1000),
      idleExpiresAt: expiresAt, absoluteExpiresAt: new Date(c.exp * 1000), idleTimeout: policy.idleTimeout,
      absoluteTimeout: policy.absoluteTimeout, policy: policy.policy, authenticatedAt: new Date(authenticatedAt),
      authMethods: c.amr ? [...c.amr] : [], device: { ...UNKNOWN_DEVICE }, data: {}, version: 0, tokenType: 'jwt',
    };
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
        return claimsView(claims);
      case 'always':
        return deps.toSession(await checkRecord(claims, token, ctx));
      default:
        if (revocations.isRevoked(claims.sid)) {
          if (cacheKey !== null) tokens.delete(cacheKey);
          throw await deps.reject(new SessionError('session_revoked', 'the session was revoked'), token, ctx, { id: claims.sid, userId: claims.sub }, 'revoked');
        }
        if (!revocations.isTrusted(claims.sid)) await checkRecord(claims, token, ctx);
        return claimsView(claims);
    }
  }

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
      const refreshed = deps.event('session.refreshed', record, ctx);
      let written: boolean;
      try {
        written = await store.replace(next, record.version, [refreshed]);
      } catch (err) {
        throw storeFailure(err, 'refresh');
      }
      if (written) {
        deps.emit([refreshed]);
        return issued(next, successor);
      }
    }
    throw new SessionError('version_conflict', 'the session changed concurrently too many times; try again');
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

  return {
    settings,
    /** Whether a value is shaped like one of our refresh tokens (never valid as an access token). */
    isRefreshToken: (token: unknown): boolean => parseRefresh(token) !== null,
    issue,
    /** The `create`/`refresh` answer for a record whose refresh secret is `refreshSecret`. */
    issued,
    validate,
    refresh,
    sessionIdOf,
    /** Tells the local revocation set at once, whatever the store's events do. */
    revoked(sessionIds: string[], at: number): void {
      for (const id of sessionIds) revocations.markRevoked(id, at);
    },
    keys: {
      /** Makes a new key active; the previous ones verify until their tokens have expired. */
      rotate: (): Promise<{ kid: string }> => ring.rotate(),
      /** The public keys, for `/.well-known/jwks.json`. */
      jwks: (): Promise<{ keys: import('node:crypto').JsonWebKey[] }> => ring.jwks(),
      /** Every key with its state; never key material. */
      list: (): Promise<SigningKeyInfo[]> => ring.list(),
      /** Adds an existing key (JWK, PEM or KeyObject): public keys verify, private keys can sign. */
      import: (input: ImportKeyInput): Promise<{ kid: string }> => ring.import(input),
      /** Retires a key at once: every token it signed stops verifying (a compromised key). */
      retire: (kid: string): Promise<boolean> => ring.retire(kid),
    },
    close(): void {
      unwatch?.();
      unwatch = null;
      ring.stop();
    },
  };
}

function readSettings(options: JwtSessionOptions) {
  const checkRevocation = options.checkRevocation ?? 'cached';
  if (checkRevocation !== 'always' && checkRevocation !== 'cached' && checkRevocation !== 'never') {
    throw new SessionError('invalid_request', "option checkRevocation: expected 'always', 'cached' or 'never'");
  }
  const revocationStaleness = parseDuration(options.revocationStaleness ?? '1s', 'revocationStaleness');
  if (revocationStaleness > 60_000) throw new SessionError('invalid_request', 'option revocationStaleness: at most 60 seconds');
  const refreshGrace = parseDuration(options.refreshGrace ?? '10s', 'refreshGrace');
  if (refreshGrace > 300_000) throw new SessionError('invalid_request', 'option refreshGrace: from 0 to 300 seconds');
  const masterKey = options.masterKey === undefined ? null : parseMasterKey(options.masterKey);
  let jwt: { issuer: string; audience: string; algorithm: JwtAlgorithm; accessTokenTtl: number; clockTolerance: number; rotateEvery: number | null; verifiedTokenCache: number } | null = null;
  const j = options.jwt;
  if (j !== undefined) {
    if (typeof j !== 'object' || j === null) throw new SessionError('invalid_request', 'option jwt: expected { issuer, audience, ... }');
    if (typeof j.issuer !== 'string' || j.issuer.length === 0) throw new SessionError('invalid_request', 'option jwt.issuer: expected a non-empty string (e.g. https://auth.example.com)');
    if (typeof j.audience !== 'string' || j.audience.length === 0) throw new SessionError('invalid_request', 'option jwt.audience: expected a non-empty string');
    const algorithm = j.algorithm ?? 'EdDSA';
    if (!isJwtAlgorithm(algorithm)) throw new SessionError('invalid_request', "option jwt.algorithm: expected 'EdDSA', 'ES256', 'RS256' or 'HS256'");
    const accessTokenTtl = parseDuration(j.accessTokenTtl ?? '5m', 'jwt.accessTokenTtl');
    if (accessTokenTtl < 1000 || accessTokenTtl > 86_400_000) throw new SessionError('invalid_request', 'option jwt.accessTokenTtl: from 1 second to 1 day');
    const clockTolerance = parseDuration(j.clockTolerance ?? '5s', 'jwt.clockTolerance');
    if (clockTolerance > 300_000) throw new SessionError('invalid_request', 'option jwt.clockTolerance: at most 5 minutes');
    const rotateEvery = j.rotateEvery === false ? null : parseDuration(j.rotateEvery ?? '7d', 'jwt.rotateEvery');
    if (rotateEvery !== null && rotateEvery <= accessTokenTtl) throw new SessionError('invalid_request', 'option jwt.rotateEvery: must be longer than jwt.accessTokenTtl');
    const verifiedTokenCache = j.verifiedTokenCache ?? 10_000;
    if (!Number.isInteger(verifiedTokenCache) || verifiedTokenCache < 0) throw new SessionError('invalid_request', 'option jwt.verifiedTokenCache: expected a non-negative integer');
    jwt = { issuer: j.issuer, audience: j.audience, algorithm, accessTokenTtl, clockTolerance, rotateEvery, verifiedTokenCache };
  }
  return { jwt, checkRevocation, revocationStaleness, refreshGrace, masterKey };
}
