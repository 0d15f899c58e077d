/**
 * Dashboard sign-in: an admin API key is exchanged once for a dashboard session, a server-side
 * record (kind `dashboard-sessions`: the SHA-256 of its secret, the API key it came from, its
 * expiry) named by an HttpOnly `SameSite=Strict` cookie. The browser never keeps the API key.
 * Every request re-checks that the key still exists, so revoking the key ends its dashboard
 * sessions too. Writes need the session's CSRF token (an HMAC of its id) in `X-CSRF-Token` and a
 * same-origin `Origin` / `Sec-Fetch-Site`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { serialize as serializeCookie } from 'cookie';
import { SessionError } from '../../core/errors.js';
import type { SessionManager } from '../../core/manager.js';
import { checkOrigin, CSRF_HEADER, headerValue, isUnsafeMethod, readCookie } from '../../http/core.js';
import type { SessionStore } from '../../stores/types.js';
import { hashesEqual, hashSecret } from '../../tokens/opaque.js';
import { CONFIGURED_ADMIN_KEY_ID, hasScope, type ApiKeyPrincipal } from '../api-keys.js';
import type { ServiceAuth } from '../auth.js';

const KIND = 'dashboard-sessions';
const COOKIE_SECURE = '__Host-sessionkit-dashboard';
const COOKIE_INSECURE = 'sessionkit-dashboard';
const VALUE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
/** How long a dashboard sign-in lasts. */
export const DASHBOARD_SESSION_TTL = 8 * 3600_000;

interface DashboardSessionRecord {
  id: string;
  secretHash: string;
  keyId: string;
  keyName: string;
  createdAt: number;
  expiresAt: number;
}

/** Who is behind an admin request: an API key directly, or a dashboard session. */
export interface AdminCaller {
  via: 'apikey' | 'dashboard';
  keyId: string;
  /** The audit actor: `apikey:<id>` or `dashboard:<keyId>`. */
  actor: string;
  /** Only for dashboard sessions. */
  sessionId?: string;
}

export interface DashboardAuthOptions {
  store: SessionStore;
  sessions: SessionManager;
  auth: ServiceAuth;
  insecureCookies: boolean;
  adminKeyConfigured: boolean;
  /** Origins allowed to write; empty: the request's own origin. */
  allowedOrigins: string[];
}

export type DashboardAuth = ReturnType<typeof dashboardAuth>;

/**
 * The dashboard's credential checks.
 *
 * @example
 * const caller = await dashAuth.admin(request); // X-API-Key (admin) or the dashboard cookie
 */
export function dashboardAuth(options: DashboardAuthOptions) {
  const { store, sessions, auth } = options;
  const cookieName = options.insecureCookies ? COOKIE_INSECURE : COOKIE_SECURE;

  function cookie(value: string, maxAgeMs: number): string {
    return serializeCookie(cookieName, value, {
      httpOnly: true, secure: !options.insecureCookies, sameSite: 'strict', path: '/', maxAge: Math.max(0, Math.floor(maxAgeMs / 1000)),
      ...(maxAgeMs <= 0 ? { expires: new Date(0) } : {}),
    });
  }

  async function csrfToken(sessionId: string): Promise<string> {
    return createHmac('sha256', await sessions.derivedKey('dashboard-csrf')).update(sessionId).digest('base64url');
  }

  function checkWriteOrigin(request: FastifyRequest): void {
    const allowed = options.allowedOrigins.length > 0 ? options.allowedOrigins : [auth.ownOrigin(request)];
    if (!checkOrigin(request.headers, allowed)) {
      throw new SessionError('csrf_failed', 'cross-site request refused: Origin / Sec-Fetch-Site is not an allowed origin');
    }
  }

  /** Signs in with the admin key in `X-API-Key`: sets the cookie, resolves with the CSRF token. */
  async function login(request: FastifyRequest, reply: FastifyReply): Promise<{ csrfToken: string; expiresAt: Date }> {
    // A login from another site would sign the victim's browser into the attacker's account.
    checkWriteOrigin(request);
    const principal = await auth.apiKey(request, 'admin');
    const now = sessions.now();
    const id = randomBytes(16).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const record: DashboardSessionRecord = {
      id, secretHash: hashSecret(secret), keyId: principal.id, keyName: principal.name, createdAt: now, expiresAt: now + DASHBOARD_SESSION_TTL,
    };
    await store.putRecord(KIND, id, record);
    await pruneExpired(now);
    reply.header('set-cookie', cookie(`${id}.${secret}`, DASHBOARD_SESSION_TTL));
    return { csrfToken: await csrfToken(id), expiresAt: new Date(record.expiresAt) };
  }

  /** Removes sign-ins past their expiry (a handful: one per sign-in); best effort. */
  async function pruneExpired(now: number): Promise<void> {
    try {
      for (const r of await store.listRecords<DashboardSessionRecord>(KIND)) {
        if (r.expiresAt <= now) await store.deleteRecord(KIND, r.id);
      }
    } catch {
      // an expired record is refused anyway; pruning again at the next sign-in
    }
  }

  /** The dashboard session of the request's cookie, or null (no cookie, unknown, expired, key revoked). */
  async function current(request: FastifyRequest): Promise<DashboardSessionRecord | null> {
    const value = readCookie(request.headers, cookieName);
    const match = value === undefined ? null : VALUE.exec(value);
    if (!match) return null;
    const record = await store.getRecord<DashboardSessionRecord>(KIND, match[1] as string);
    if (!record || !hashesEqual(hashSecret(match[2] as string), record.secretHash) || record.expiresAt <= sessions.now()) return null;
    if (!(await keyStillAdmin(record.keyId))) return null;
    return record;
  }

  async function keyStillAdmin(keyId: string): Promise<boolean> {
    if (keyId === CONFIGURED_ADMIN_KEY_ID) return options.adminKeyConfigured;
    const key = await store.getRecord<ApiKeyPrincipal>('api-keys', keyId);
    return key !== null && Array.isArray(key.scopes) && hasScope(key, 'admin');
  }

  /**
   * An admin request: `X-API-Key` with the admin scope, or else a live dashboard cookie (with the
   * CSRF token and origin check on unsafe methods). Refusals are 401 / 403.
   */
  async function admin(request: FastifyRequest): Promise<AdminCaller> {
    if (request.headers['x-api-key'] !== undefined || readCookie(request.headers, cookieName) === undefined) {
      const principal = await auth.apiKey(request, 'admin');
      return { via: 'apikey', keyId: principal.id, actor: `apikey:${principal.id}` };
    }
    return signedIn(request);
  }

  /** The dashboard session of the cookie (CSRF and origin checked on unsafe methods), else 401. */
  async function signedIn(request: FastifyRequest): Promise<AdminCaller & { sessionId: string }> {
    await auth.checkLimit(request, null);
    const record = await current(request);
    if (!record) {
      await auth.noteFailure(request);
      throw new SessionError('token_invalid', 'the dashboard sign-in is not valid (expired, signed out or its API key was revoked); sign in again');
    }
    if (isUnsafeMethod(request.method)) {
      checkWriteOrigin(request);
      const presented = headerValue(request.headers, CSRF_HEADER);
      if (typeof presented !== 'string' || !hashesEqual(hashSecret(presented), hashSecret(await csrfToken(record.id)))) {
        throw new SessionError('csrf_failed', 'missing or wrong X-CSRF-Token header');
      }
    }
    return { via: 'dashboard', keyId: record.keyId, actor: `dashboard:apikey:${record.keyId}`, sessionId: record.id };
  }

  const signOutListeners = new Set<(sessionId: string) => void>();

  /**
   * Signs out: deletes the record and clears the cookie (needs the CSRF token, like every write).
   * Only the dashboard cookie is accepted: an API key has no sign-in to end, and the OpenAPI
   * document lists the cookie alone (issue 17).
   */
  async function logout(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (readCookie(request.headers, cookieName) === undefined) {
      throw new SessionError('token_missing', 'signing out needs the dashboard cookie (an API key has no dashboard sign-in to end)');
    }
    const caller = await signedIn(request);
    await store.deleteRecord(KIND, caller.sessionId);
    for (const listener of signOutListeners) listener(caller.sessionId);
    reply.header('set-cookie', cookie('', 0));
  }

  /** Calls `listener` with the id of each dashboard session signed out here; returns the unsubscribe. */
  function onSignOut(listener: (sessionId: string) => void): () => void {
    signOutListeners.add(listener);
    return () => signOutListeners.delete(listener);
  }

  /**
   * Whether the credential behind an admin request still holds: the API key still exists with the
   * admin scope; for a dashboard sign-in, also its record (not signed out, not expired). For
   * long-lived responses (`/v1/events`), which re-check it while they stream.
   */
  async function stillValid(caller: AdminCaller): Promise<boolean> {
    if (caller.via === 'dashboard') {
      const record = await store.getRecord<DashboardSessionRecord>(KIND, caller.sessionId as string);
      if (!record || record.expiresAt <= sessions.now()) return false;
    }
    return keyStillAdmin(caller.keyId);
  }

  return { login, logout, admin, current, csrfToken, cookieName, stillValid, onSignOut };
}
