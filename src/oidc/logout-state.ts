import { timingSafeEqual } from 'node:crypto';
import { serialize as serializeCookie } from 'cookie';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { readCookie, type HeaderBag } from '../http/core.js';

/** What a started RP-initiated logout must remember until the provider sends the browser back. */
export interface LogoutState {
  state: string;
  returnTo: string;
}

const SECURE_NAME = '__Host-sessionkit-oidc-logout';
const INSECURE_NAME = 'sessionkit-oidc-logout';
const MAX_COOKIE = 3000;

/**
 * The logout-state cookie's name: `__Host-sessionkit-oidc-logout`, or `sessionkit-oidc-logout`
 * with insecure (plain-HTTP) cookies.
 *
 * @example logoutStateCookieName(false) // '__Host-sessionkit-oidc-logout'
 */
export function logoutStateCookieName(insecure: boolean): string {
  return insecure ? INSECURE_NAME : SECURE_NAME;
}

/**
 * Seals a logout's `state` and return target into a cookie value (JWE `dir` + A256GCM under a key
 * derived from the server secret, bound to the client, expiring with `ttlMs`), so the return from
 * the provider can be tied to the browser that started the logout without storing anything.
 *
 * @example const value = await sealLogoutState(key, 'app', { state, returnTo }, 600_000, Date.now())
 */
export async function sealLogoutState(key: Uint8Array, audience: string, state: LogoutState, ttlMs: number, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new EncryptJWT({ s: state.state, r: state.returnTo, p: 'logout' })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.ceil(ttlMs / 1000))
    .encrypt(key);
}

/**
 * Checks the return from the provider: the logout-state cookie must open (not missing, altered,
 * expired or sealed for another client) and its `state` must equal the `state` parameter
 * (compared in constant time). Resolves with the sealed return target, or null.
 *
 * @example const target = await checkLogoutReturn(headers, 'abc', false, key, 'app', Date.now())
 */
export async function checkLogoutReturn(headers: HeaderBag, state: unknown, insecure: boolean, key: Uint8Array, audience: string, nowMs: number): Promise<string | null> {
  const sealed = readCookie(headers, logoutStateCookieName(insecure));
  if (!sealed || sealed.length > MAX_COOKIE || typeof state !== 'string' || state.length === 0 || state.length > 512) return null;
  try {
    const { payload } = await jwtDecrypt(sealed, key, {
      audience, currentDate: new Date(nowMs), keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'],
    });
    const { s, r, p } = payload as Record<string, unknown>;
    if (typeof s !== 'string' || typeof r !== 'string' || p !== 'logout') return null;
    const expected = Buffer.from(s, 'utf8');
    const given = Buffer.from(state, 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given) ? r : null;
  } catch {
    return null;
  }
}

/**
 * The `Set-Cookie` value of the logout-state cookie: HttpOnly, `SameSite=Lax` (the provider's
 * redirect back is a cross-site top-level GET), `Path=/`, host-only.
 *
 * @example res.append('Set-Cookie', logoutStateCookie(value, 600_000, false))
 */
export function logoutStateCookie(value: string, ttlMs: number, insecure: boolean): string {
  return serializeCookie(logoutStateCookieName(insecure), value, {
    httpOnly: true, secure: !insecure, sameSite: 'lax', path: '/', maxAge: Math.floor(ttlMs / 1000),
  });
}

/**
 * The `Set-Cookie` value that removes the logout-state cookie once the return has used it.
 *
 * @example res.append('Set-Cookie', clearLogoutStateCookie(false))
 */
export function clearLogoutStateCookie(insecure: boolean): string {
  return serializeCookie(logoutStateCookieName(insecure), '', {
    httpOnly: true, secure: !insecure, sameSite: 'lax', path: '/', maxAge: 0, expires: new Date(0),
  });
}
