import { checkFreshness, reauthenticationRequired, type FreshnessRequirement } from '../core/freshness.js';
import type { SessionManager } from '../core/manager.js';
import type { AuditEvent, RequestContext, Session } from '../core/types.js';
import { tokenFingerprint } from '../tokens/opaque.js';

/**
 * Refuses a session whose last authentication does not meet `requirement` (too old, or without a
 * required method): audited as `session.rejected` with reason `reauthentication_required` (detail
 * `age` or `methods`, and a fingerprint of the token, never the token) and thrown as 403
 * `reauthentication_required` whose details carry `maxAge` (seconds) and `methods`. The adapters'
 * `requireRecentAuth` and the service share it, so they cannot disagree.
 *
 * @example await enforceRecentAuth(sessions, session, sessions.recentAuth({ maxAge: '10m' }), { token, ctx })
 */
export async function enforceRecentAuth(sessions: SessionManager, session: Session, requirement: FreshnessRequirement,
  req: { token: string | null; ctx: RequestContext }): Promise<void> {
  const verdict = checkFreshness(session, requirement, sessions.now());
  if (verdict.fresh) return;
  const event: AuditEvent = {
    type: 'session.rejected', at: sessions.now(), sessionId: session.id, userId: session.userId,
    ip: req.ctx.ip ?? null, userAgent: req.ctx.userAgent ?? null, reason: 'reauthentication_required', detail: verdict.reason,
    actor: req.ctx.actor ?? null, requestId: req.ctx.requestId ?? null, tokenFingerprint: tokenFingerprint(req.token),
  };
  try {
    await sessions.audit([event]);
  } catch {
    // the refusal stands even when the trail cannot be written; the sinks have the event
  }
  throw reauthenticationRequired(verdict);
}
