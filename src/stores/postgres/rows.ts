/**
 * How session records and audit events map to PostgreSQL rows. Times are epoch milliseconds in
 * `bigint` columns; `pg` hands bigints back as strings (they may exceed 2^53), so every read goes
 * through `Number()` here, in one place.
 */
import type { AuditEvent, DeviceInfo, StoredAuditEvent, StoredSession } from '../../core/types.js';

/** The session columns, in the order `sessionParams` fills them (`$1` is the id). */
export const SESSION_COLUMNS = [
  'id', 'user_id', 'secret_hash', 'previous_secret_hash', 'previous_secret_expires_at',
  'used_secret_hashes', 'generation', 'token_type', 'roles', 'created_at', 'last_seen_at',
  'idle_expires_at', 'absolute_expires_at', 'idle_timeout', 'absolute_timeout', 'policy',
  'authenticated_at', 'auth_methods', 'device', 'data', 'version', 'revoked_at', 'revoke_reason',
] as const;

/** `id, user_id, ...`: the select list every session read uses. */
export const SESSION_SELECT = SESSION_COLUMNS.join(', ');

/** One row of the sessions table as `pg` returns it. */
export interface SessionRow {
  id: string;
  user_id: string;
  secret_hash: string;
  previous_secret_hash: string | null;
  previous_secret_expires_at: string | null;
  used_secret_hashes: string[];
  generation: number;
  token_type: string;
  roles: string[];
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  absolute_expires_at: string;
  idle_timeout: string;
  absolute_timeout: string;
  policy: string | null;
  authenticated_at: string;
  auth_methods: string[];
  device: DeviceInfo;
  data: Record<string, unknown>;
  version: number;
  revoked_at: string | null;
  revoke_reason: string | null;
}

const num = (v: string | number): number => Number(v);
const numOrNull = (v: string | number | null): number | null => (v === null ? null : Number(v));

/** A row back to the record the store contract speaks. */
export function rowToSession(r: SessionRow): StoredSession {
  return {
    id: r.id,
    secretHash: r.secret_hash,
    previousSecretHash: r.previous_secret_hash,
    previousSecretExpiresAt: numOrNull(r.previous_secret_expires_at),
    usedSecretHashes: r.used_secret_hashes,
    generation: r.generation,
    tokenType: r.token_type as StoredSession['tokenType'],
    userId: r.user_id,
    roles: r.roles,
    createdAt: num(r.created_at),
    lastSeenAt: num(r.last_seen_at),
    idleExpiresAt: num(r.idle_expires_at),
    absoluteExpiresAt: num(r.absolute_expires_at),
    idleTimeout: num(r.idle_timeout),
    absoluteTimeout: num(r.absolute_timeout),
    policy: r.policy,
    authenticatedAt: num(r.authenticated_at),
    authMethods: r.auth_methods,
    device: r.device,
    data: r.data,
    version: r.version,
    revokedAt: numOrNull(r.revoked_at),
    revokeReason: r.revoke_reason,
  };
}

/** The parameters for `SESSION_COLUMNS`, in order. JSON columns are sent as text. */
export function sessionParams(s: StoredSession): unknown[] {
  return [
    s.id, s.userId, s.secretHash, s.previousSecretHash, s.previousSecretExpiresAt,
    s.usedSecretHashes, s.generation, s.tokenType, s.roles, s.createdAt, s.lastSeenAt,
    s.idleExpiresAt, s.absoluteExpiresAt, s.idleTimeout, s.absoluteTimeout, s.policy,
    s.authenticatedAt, s.authMethods, JSON.stringify(s.device), JSON.stringify(s.data), s.version,
    s.revokedAt, s.revokeReason,
  ];
}

/** One row of the audit table as `pg` returns it. */
export interface AuditRow {
  seq: string;
  at: string;
  type: string;
  session_id: string | null;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  reason: string | null;
  detail: string | null;
  actor: string | null;
  request_id: string | null;
  token_fingerprint: string | null;
  prev_hash: string;
  hash: string;
}

export const AUDIT_SELECT = 'seq, at, type, session_id, user_id, ip, user_agent, reason, detail, actor, request_id, token_fingerprint, prev_hash, hash';

export function rowToAudit(r: AuditRow): StoredAuditEvent {
  return {
    type: r.type as AuditEvent['type'],
    at: num(r.at),
    sessionId: r.session_id,
    userId: r.user_id,
    ip: r.ip,
    userAgent: r.user_agent,
    reason: r.reason,
    detail: r.detail,
    actor: r.actor,
    requestId: r.request_id,
    tokenFingerprint: r.token_fingerprint,
    seq: num(r.seq),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** A linked event as the JSON object `jsonb_populate_recordset` turns into an audit row. */
export function auditToRow(e: StoredAuditEvent): Record<string, unknown> {
  return {
    seq: e.seq, at: e.at, type: e.type, session_id: e.sessionId, user_id: e.userId, ip: e.ip,
    user_agent: e.userAgent, reason: e.reason, detail: e.detail ?? null, actor: e.actor,
    request_id: e.requestId, token_fingerprint: e.tokenFingerprint ?? null, prev_hash: e.prevHash, hash: e.hash,
  };
}
