import { SessionError } from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { AuditEvent, RequestContext, Session } from '../core/types.js';
import { tokenFingerprint } from '../tokens/opaque.js';
import { checkOrigin, CSRF_HEADER, headerValue, isUnsafeMethod, type HeaderBag } from './core.js';

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
}

/**
 * Refuses a cookie-authenticated unsafe request that does not prove it comes from our own pages:
 * the `Origin` / `Sec-Fetch-Site` check first, then the session's CSRF token in `X-CSRF-Token`.
 * Bearer-authenticated and safe requests pass untouched (a browser never attaches a Bearer header
 * on its own, so there is nothing to forge). A refusal is audited as `session.rejected` with
 * reason `csrf` and thrown as `csrf_failed` (403).
 *
 * @example await enforceCsrf(sessions, session, { method, headers, source, token, allowedOrigins, ctx })
 */
export async function enforceCsrf(sessions: SessionManager, session: Session, req: CsrfRequest): Promise<void> {
  if (req.source !== 'cookie' || !isUnsafeMethod(req.method)) return;
  let failure: 'origin' | 'token' | null = null;
  if (!checkOrigin(req.headers, req.allowedOrigins)) {
    failure = 'origin';
  } else if (req.requireToken !== false && !(await sessions.verifyCsrfToken(session.id, headerValue(req.headers, CSRF_HEADER)))) {
    failure = 'token';
  }
  if (failure === null) return;
  const event: AuditEvent = {
    type: 'session.rejected', at: sessions.now(), sessionId: session.id, userId: session.userId,
    ip: req.ctx.ip ?? null, userAgent: req.ctx.userAgent ?? null, reason: 'csrf', detail: failure,
    actor: req.ctx.actor ?? null, requestId: req.ctx.requestId ?? null, tokenFingerprint: tokenFingerprint(req.token),
  };
  try {
    await sessions.audit([event]);
  } catch {
    // the refusal stands even when the trail cannot be written; the sinks have the event
  }
  throw new SessionError('csrf_failed', failure === 'origin'
    ? 'cross-site request refused: Origin / Sec-Fetch-Site is not an allowed origin'
    : 'missing or wrong X-CSRF-Token header');
}
