import { SessionError } from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { AuditEvent, RequestContext, Session } from '../core/types.js';
import { tokenFingerprint } from '../tokens/opaque.js';
import { checkOrigin, CSRF_FIELD, CSRF_HEADER, headerValue, isUnsafeMethod, type HeaderBag } from './core.js';

/** What the CSRF check needs to know about one request. */
export interface CsrfRequest {
  method: string;
  headers: HeaderBag;
  /** Where the session token came from: only `cookie` sessions are checked. */
  source: 'cookie' | 'bearer' | null;
  /** The presented session token, only to fingerprint it in the audit event. */
  token: string | null;
  /** Origins whose writes pass; adapters default it to the request's own origin. */
  allowedOrigins: string[];
  ctx: RequestContext;
  /** Also require the session's token in `X-CSRF-Token` (default). `false`: the origin check alone. */
  requireToken?: boolean;
  /**
   * The `_csrf` field of a urlencoded or multipart body, read only when the header is absent
   * (adapters supply it; undefined when the body has none or cannot be read).
   */
  formToken?: () => Promise<string | undefined>;
}

/** The longest `Origin` value quoted back in an error message (it is the caller's text). */
const MAX_QUOTED_ORIGIN = 200;

/**
 * Why the origin check failed, naming what was expected, so a developer sees at once which
 * origin to list in `allowedOrigins` (the allowed origins are the app's public addresses).
 */
export function originFailureMessage(headers: HeaderBag, allowedOrigins: string[], what = 'request'): string {
  const expected = allowedOrigins.length === 0 ? 'none configured (set allowedOrigins)' : allowedOrigins.join(' or ');
  const origin = headerValue(headers, 'origin');
  const site = headerValue(headers, 'sec-fetch-site');
  const seen = origin !== undefined
    ? `Origin ${JSON.stringify(origin.slice(0, MAX_QUOTED_ORIGIN))}`
    : site !== undefined ? `no Origin and Sec-Fetch-Site ${JSON.stringify(site.slice(0, 32))}` : 'neither Origin nor Sec-Fetch-Site';
  return `cross-site ${what} refused: ${seen}; expected Origin ${expected}`;
}

async function auditRefusal(sessions: SessionManager, fields: { sessionId: string | null; userId: string | null; ctx: RequestContext; detail: string; token: string | null }): Promise<void> {
  const { ctx } = fields;
  const event: AuditEvent = {
    type: 'session.rejected', at: sessions.now(), sessionId: fields.sessionId, userId: fields.userId,
    ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null, reason: 'csrf', detail: fields.detail,
    actor: ctx.actor ?? null, requestId: ctx.requestId ?? null, tokenFingerprint: tokenFingerprint(fields.token),
  };
  try {
    await sessions.audit([event]);
  } catch {
    // the refusal stands even when the trail cannot be written; the sinks have the event
  }
}

/**
 * Refuses a cookie-authenticated unsafe request that does not prove it comes from our own pages:
 * the `Origin` / `Sec-Fetch-Site` check first, then the session's CSRF token from `X-CSRF-Token`
 * or, without that header, from the `_csrf` field of a form body. Bearer-authenticated and safe
 * requests pass untouched (a browser never attaches a Bearer header on its own, so there is
 * nothing to forge). A refusal is audited as `session.rejected` with reason `csrf` and thrown as
 * `csrf_failed` (403).
 *
 * @example await enforceCsrf(sessions, session, { method, headers, source, token, allowedOrigins, ctx })
 */
export async function enforceCsrf(sessions: SessionManager, session: Session, req: CsrfRequest): Promise<void> {
  if (req.source !== 'cookie' || !isUnsafeMethod(req.method)) return;
  let failure: 'origin' | 'token' | null = null;
  if (!checkOrigin(req.headers, req.allowedOrigins)) {
    failure = 'origin';
  } else if (req.requireToken !== false) {
    const presented = headerValue(req.headers, CSRF_HEADER) ?? (req.formToken ? await req.formToken() : undefined);
    if (!(await sessions.verifyCsrfToken(session.id, presented))) failure = 'token';
  }
  if (failure === null) return;
  await auditRefusal(sessions, { sessionId: session.id, userId: session.userId, ctx: req.ctx, detail: failure, token: req.token });
  throw new SessionError('csrf_failed', failure === 'origin'
    ? originFailureMessage(req.headers, req.allowedOrigins)
    : `missing or wrong CSRF token: send the session's token in the X-CSRF-Token header or in a ${CSRF_FIELD} form field`);
}

/**
 * Login CSRF (OWASP): an unsafe request that creates a session without carrying one must come
 * from an allowed origin too, or a cross-site form could sign the victim in to the attacker's
 * account. There is no session yet, so there is no CSRF token to ask for: the origin check is
 * the whole defence. Refused as `csrf_failed` (403) and audited with detail `login`.
 *
 * @example await enforceLoginOrigin(sessions, { method, headers, allowedOrigins, ctx, userId })
 */
export async function enforceLoginOrigin(sessions: SessionManager, req: { method: string; headers: HeaderBag; allowedOrigins: string[]; ctx: RequestContext; userId: string | null }): Promise<void> {
  if (!isUnsafeMethod(req.method) || checkOrigin(req.headers, req.allowedOrigins)) return;
  await auditRefusal(sessions, { sessionId: null, userId: req.userId, ctx: req.ctx, detail: 'login', token: null });
  throw new SessionError('csrf_failed', originFailureMessage(req.headers, req.allowedOrigins, 'login'));
}
