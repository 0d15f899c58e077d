import { serialize as serializeCookie } from 'cookie';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { readCookie, type HeaderBag } from '../http/core.js';

/** What a started login must remember until its callback: the three checks and where to go after. */
export interface LoginState {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

const SECURE_NAME = '__Host-sessionkit-oidc';
const INSECURE_NAME = 'sessionkit-oidc';
const MAX_COOKIE = 3000;

/**
 * The login-state cookie's name: `__Host-sessionkit-oidc`, or `sessionkit-oidc` with insecure
 * (plain-HTTP) cookies, since browsers refuse `__Host-` cookies without `Secure`.
 *
 * @example loginStateCookieName(false) // '__Host-sessionkit-oidc'
 */
export function loginStateCookieName(insecure: boolean): string {
  return insecure ? INSECURE_NAME : SECURE_NAME;
}

/**
 * Seals a login's state into a cookie value: encrypted and authenticated (JWE `dir` + A256GCM)
 * with a key derived from the server secret, bound to this client and expiring with the login.
 * The browser holds it, so nothing is stored per started login, and it ties the callback to the
 * browser that began the login (a callback replayed in another browser has no cookie).
 *
 * @example const value = await sealLoginState(key, 'app', state, 600_000, Date.now())
 */
export async function sealLoginState(key: Uint8Array, audience: string, state: LoginState, ttlMs: number, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new EncryptJWT({ s: state.state, n: state.nonce, v: state.codeVerifier, r: state.returnTo })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.ceil(ttlMs / 1000))
    .encrypt(key);
}

/**
 * Opens the login-state cookie of a callback request: null when it is missing, altered, expired or
 * sealed for another client.
 *
 * @example const login = await openLoginState(headers, false, key, 'app', Date.now())
 */
export async function openLoginState(headers: HeaderBag, insecure: boolean, key: Uint8Array, audience: string, nowMs: number): Promise<LoginState | null> {
  const sealed = readCookie(headers, loginStateCookieName(insecure));
  if (!sealed || sealed.length > MAX_COOKIE) return null;
  try {
    const { payload } = await jwtDecrypt(sealed, key, {
      audience, currentDate: new Date(nowMs), keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'],
    });
    const { s, n, v, r } = payload as Record<string, unknown>;
    if (typeof s !== 'string' || typeof n !== 'string' || typeof v !== 'string' || typeof r !== 'string') return null;
    return { state: s, nonce: n, codeVerifier: v, returnTo: r };
  } catch {
    return null;
  }
}

/**
 * The `Set-Cookie` value of the login-state cookie: HttpOnly, `SameSite=Lax` (the provider's
 * redirect back is a cross-site top-level GET, which Lax still carries), `Path=/`, host-only.
 *
 * @example res.append('Set-Cookie', loginStateCookie(value, 600_000, false))
 */
export function loginStateCookie(value: string, ttlMs: number, insecure: boolean): string {
  return serializeCookie(loginStateCookieName(insecure), value, {
    httpOnly: true, secure: !insecure, sameSite: 'lax', path: '/', maxAge: Math.floor(ttlMs / 1000),
  });
}

/**
 * The `Set-Cookie` value that removes the login-state cookie once the callback has used it.
 *
 * @example res.append('Set-Cookie', clearLoginStateCookie(false))
 */
export function clearLoginStateCookie(insecure: boolean): string {
  return serializeCookie(loginStateCookieName(insecure), '', {
    httpOnly: true, secure: !insecure, sameSite: 'lax', path: '/', maxAge: 0, expires: new Date(0),
  });
}
