/** The JWT options of `createSessionManager`, and their checking (once, when the manager is built). */
import { parseDuration, type Duration } from '../duration.js';
import { SessionError } from '../errors.js';
import { isJwtAlgorithm, type JwtAlgorithm } from '../../tokens/jwt-algorithms.js';
import { parseMasterKey } from '../../tokens/key-encryption.js';

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
  /**
   * How long a rotated-in key is published in the JWKS before it signs, so verifiers that cache
   * the JWKS (jose's `createRemoteJWKSet`, PyJWT's `PyJWKClient`, HTTP caches) have it before they
   * meet its first token. Default `'2m'` (the service's JWKS says `max-age=60`); 0 to 1 day.
   */
  keyPropagation?: Duration;
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
  masterKey?: string | Uint8Array | undefined;
  checkRevocation?: RevocationCheck;
  /** With `'cached'`: the longest a revocation may go unnoticed. Default `'1s'`. */
  revocationStaleness?: Duration;
  /** How long a just-rotated refresh token still yields the same new pair. Default `'10s'`, at most `'300s'`. */
  refreshGrace?: Duration;
}

/** The JWT options after checking: durations in ms, defaults filled in; `jwt` is null without the option. */
export type JwtSettings = ReturnType<typeof readSettings>;

/**
 * Checks the JWT options and fills in the defaults; throws `invalid_request` naming the option.
 *
 * @example readSettings({ jwt: { issuer: 'https://auth.example.com', audience: 'api' } }).jwt?.accessTokenTtl // 300000
 */
export function readSettings(options: JwtSessionOptions) {
  const checkRevocation = options.checkRevocation ?? 'cached';
  if (checkRevocation !== 'always' && checkRevocation !== 'cached' && checkRevocation !== 'never') {
    throw new SessionError('invalid_request', "option checkRevocation: expected 'always', 'cached' or 'never'");
  }
  const revocationStaleness = parseDuration(options.revocationStaleness ?? '1s', 'revocationStaleness');
  if (revocationStaleness > 60_000) throw new SessionError('invalid_request', 'option revocationStaleness: at most 60 seconds');
  const refreshGrace = parseDuration(options.refreshGrace ?? '10s', 'refreshGrace');
  if (refreshGrace > 300_000) throw new SessionError('invalid_request', 'option refreshGrace: from 0 to 300 seconds');
  const masterKey = options.masterKey === undefined ? null : parseMasterKey(options.masterKey);
  let jwt: { issuer: string; audience: string; algorithm: JwtAlgorithm; accessTokenTtl: number; clockTolerance: number; rotateEvery: number | null; keyPropagation: number; verifiedTokenCache: number } | null = null;
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
    const keyPropagation = parseDuration(j.keyPropagation ?? '2m', 'jwt.keyPropagation');
    if (keyPropagation > 86_400_000) throw new SessionError('invalid_request', 'option jwt.keyPropagation: from 0 to 1 day');
    if (rotateEvery !== null && keyPropagation >= rotateEvery) throw new SessionError('invalid_request', 'option jwt.keyPropagation: must be shorter than jwt.rotateEvery');
    const verifiedTokenCache = j.verifiedTokenCache ?? 10_000;
    if (!Number.isInteger(verifiedTokenCache) || verifiedTokenCache < 0) throw new SessionError('invalid_request', 'option jwt.verifiedTokenCache: expected a non-negative integer');
    jwt = { issuer: j.issuer, audience: j.audience, algorithm, accessTokenTtl, clockTolerance, rotateEvery, keyPropagation, verifiedTokenCache };
  }
  return { jwt, checkRevocation, revocationStaleness, refreshGrace, masterKey };
}
