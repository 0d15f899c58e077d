import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { SessionError } from '../core/errors.js';
import { OidcProviderError } from './errors.js';

/** The `events` member that makes a JWT a Logout Token (Back-Channel Logout 1.0, section 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A validated Logout Token: whom to log out, and what identifies the token for replay checks. */
export interface LogoutTokenClaims {
  iss: string;
  sub: string | null;
  sid: string | null;
  jti: string;
  /** Epoch seconds. */
  iat: number;
  exp: number;
}

export interface LogoutTokenCheck {
  jwks: JWTVerifyGetKey;
  issuer: string;
  clientId: string;
  /** The one algorithm accepted: the client's registered ID Token signing algorithm. */
  algorithm: string;
  acceptUntyped: boolean;
  /** Seconds. */
  clockTolerance: number;
  /** Epoch milliseconds. */
  now: number;
}

const MAX_TOKEN = 16 * 1024;
const MAX_CLAIM = 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const COMPACT_JWE = /^[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){4}$/;

function refuse(reason: string): SessionError {
  return new SessionError('invalid_request', `invalid logout_token: ${reason}`);
}

function optionalText(payload: JWTPayload, name: 'sub' | 'sid'): string | null {
  const value = payload[name];
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CLAIM) throw refuse(`"${name}" must be a non-empty string`);
  return value;
}

/** `typ` as RFC 7515 compares media types: case-insensitive, `application/` optional. */
function normalizedTyp(typ: unknown): string | null {
  if (typeof typ !== 'string') return null;
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/**
 * Validates a Logout Token as OpenID Connect Back-Channel Logout 1.0 (section 2.6) says: a signed
 * JWS (never `none`, never encrypted here) with the client's algorithm, verified against the
 * provider's JWKS; `typ` `logout+jwt`; `iss`, `aud` (and `azp` when present), `iat` and `exp` as
 * for ID Tokens; a `jti`; an `events` object holding the back-channel-logout member with an object
 * value; `sub`, `sid` or both; and no `nonce`. Every failure is `invalid_request` (the endpoint's
 * 400); an unreachable JWKS is `OidcProviderError`. Replay (`jti`) is checked by the caller.
 *
 * @example const claims = await verifyLogoutToken(body.logout_token, { jwks, issuer, clientId, algorithm: 'RS256', ... })
 */
export async function verifyLogoutToken(token: unknown, check: LogoutTokenCheck): Promise<LogoutTokenClaims> {
  if (typeof token !== 'string' || token.length === 0) throw refuse('missing');
  if (token.length > MAX_TOKEN) throw refuse('too long');
  if (!COMPACT_JWS.test(token)) throw refuse(COMPACT_JWE.test(token) ? 'encrypted Logout Tokens are not accepted (no encryption was registered)' : 'not a signed JWT');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw refuse('unreadable header');
  }
  if (header.alg !== check.algorithm) throw refuse(`"alg" must be ${check.algorithm}`);
  const typ = normalizedTyp(header.typ);
  if (typ !== 'logout+jwt' && !(check.acceptUntyped && (header.typ === undefined || typ === 'jwt'))) throw refuse('"typ" must be logout+jwt');
  if (header.crit !== undefined) throw refuse('unsupported "crit" header');

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, check.jwks, {
      algorithms: [check.algorithm], issuer: check.issuer, audience: check.clientId,
      currentDate: new Date(check.now), clockTolerance: check.clockTolerance, requiredClaims: ['iat', 'exp', 'jti'],
    }));
  } catch (err) {
    throw verifyFailure(err);
  }
  if (payload.azp !== undefined && payload.azp !== check.clientId) throw refuse('unexpected "azp"');
  const nowSeconds = check.now / 1000;
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw refuse('"iat" must be a number');
  if (payload.iat > nowSeconds + check.clockTolerance) throw refuse('"iat" is in the future');
  if (typeof payload.exp !== 'number') throw refuse('"exp" must be a number');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > MAX_CLAIM) throw refuse('"jti" must be a non-empty string');
  const events = payload.events as unknown;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) throw refuse('"events" must be an object');
  const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (!Object.hasOwn(events, BACKCHANNEL_LOGOUT_EVENT)) throw refuse(`"events" must contain ${BACKCHANNEL_LOGOUT_EVENT}`);
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw refuse('the back-channel logout event must be a JSON object');
  const sub = optionalText(payload, 'sub');
  const sid = optionalText(payload, 'sid');
  if (sub === null && sid === null) throw refuse('needs "sub", "sid" or both');
  if (Object.hasOwn(payload, 'nonce')) throw refuse('must not contain "nonce"');
  return { iss: payload.iss as string, sub, sid, jti: payload.jti, iat: payload.iat, exp: payload.exp };
}

/** What a jose failure means here: the token's fault (400), or the provider's keys out of reach. */
function verifyFailure(err: unknown): Error {
  if (err instanceof errors.JWKSTimeout || (err instanceof errors.JOSEError && (err.code === 'ERR_JWKS_INVALID' || err.code === 'ERR_JOSE_GENERIC')) || err instanceof TypeError) {
    return new OidcProviderError('the OpenID provider\'s signing keys could not be fetched', { cause: err });
  }
  if (err instanceof errors.JWTExpired) return refuse('expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    return refuse(err.reason === 'missing' ? `"${err.claim}" is missing` : `unexpected "${err.claim}"`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return refuse('signed with a key the provider does not publish');
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse('bad signature');
  if (err instanceof errors.JOSEAlgNotAllowed) return refuse('algorithm not allowed');
  if (err instanceof errors.JOSEError) return refuse(err.code.replace(/^ERR_/, '').toLowerCase());
  return refuse('could not be verified');
}
