import type { StoredAuditEvent } from '../../core/types.js';

/**
 * An audit event as the API shows it (the same fields as `GET /v1/audit`): ISO-8601 time,
 * nulls rather than missing fields.
 *
 * @example res.write(`data: ${JSON.stringify(auditEventJson(e))}\n\n`)
 */
export function auditEventJson(e: StoredAuditEvent): Record<string, unknown> {
  return {
    seq: e.seq, type: e.type, at: new Date(e.at).toISOString(), sessionId: e.sessionId, userId: e.userId, ip: e.ip,
    userAgent: e.userAgent, reason: e.reason, detail: e.detail ?? null, actor: e.actor, requestId: e.requestId,
    tokenFingerprint: e.tokenFingerprint ?? null, prevHash: e.prevHash, hash: e.hash,
  };
}
