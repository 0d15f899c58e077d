/**
 * Issuing access tokens: RFC 9068 JWTs with header `{ alg, kid, typ: 'at+jwt' }` and claims
 * `iss aud sub sid jti iat exp roles` (plus `auth_time`, and `amr` when known).
 */
import { createHmac } from 'node:crypto';
import type { JwtAlgorithm, Signer } from './jwt-algorithms.js';
import type { AccessTokenClaims } from './jwt-verify.js';

/** A key the issuer can sign with. */
export interface SigningKey {
  kid: string;
  alg: JwtAlgorithm;
  sign: Signer;
}

/**
 * The facts of a session that its access token states: a structural subset of the core's
 * `StoredSession`, so that this format module does not depend on the core.
 */
export interface AccessTokenSubject {
  id: string;
  userId: string;
  roles: string[];
  generation: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  authenticatedAt: number;
  authMethods: string[];
}

/** Largest share of the lifetime taken off as jitter, so clients do not refresh in lockstep. */
export const ACCESS_TOKEN_JITTER = 0.05;

/**
 * Encodes and signs a compact JWS with sessionkit's access-token header.
 *
 * @example encodeAccessToken(activeKey, { iss, aud, sub, sid, jti, iat, exp, roles })
 */
export function encodeAccessToken(key: SigningKey, claims: AccessTokenClaims): string {
  const header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = `${header}.${payload}`;
  return `${input}.${key.sign(input).toString('base64url')}`;
}

/**
 * The claims of the access token for one generation of a session's token family. Everything that
 * varies (`jti`, the jitter) is derived from `derivationKey`, the session id and the generation, so
 * a retried or concurrent refresh of the same generation yields the same claims and, with a
 * deterministic algorithm (EdDSA, RS256, HS256), the same token.
 *
 * `iat` is the generation's rotation time (`lastSeenAt`); `exp` is `iat + ttl` shortened by up to
 * 5 % and never past the session's absolute or idle expiry.
 *
 * @example accessTokenClaims(record, { issuer, audience, ttl: 300_000, derivationKey })
 */
export function accessTokenClaims(record: AccessTokenSubject, options: { issuer: string; audience: string; ttl: number; derivationKey: Buffer }): AccessTokenClaims {
  const derived = createHmac('sha256', options.derivationKey).update(`${record.id}.${record.generation}`).digest();
  const jitter = (derived.readUInt16BE(16) / 0xffff) * ACCESS_TOKEN_JITTER;
  const issuedAt = record.lastSeenAt;
  const expiresAt = Math.min(issuedAt + Math.floor(options.ttl * (1 - jitter)), record.absoluteExpiresAt, record.idleExpiresAt);
  const claims: AccessTokenClaims = {
    iss: options.issuer, aud: options.audience, sub: record.userId, sid: record.id,
    jti: derived.subarray(0, 16).toString('base64url'),
    iat: Math.floor(issuedAt / 1000), exp: Math.floor(expiresAt / 1000), roles: record.roles,
    auth_time: Math.floor(record.authenticatedAt / 1000),
  };
  if (record.authMethods.length > 0) claims.amr = record.authMethods;
  return claims;
}
