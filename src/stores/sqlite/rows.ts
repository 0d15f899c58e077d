/**
 * Mapping between `StoredSession` / `StoredAuditEvent` and the SQLite store's rows.
 * Session fields the store filters or changes in place are columns; the rest is one JSON body.
 */
import type { AuditEventType, RevokeReason, StoredAuditEvent, StoredSession } from '../../core/types.js';
import { deepFreeze } from '../freeze.js';
import { readMemo } from '../read-memo.js';

/** A row of `sessions` as better-sqlite3 returns it. */
export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  version: number;
  body: string;
}

/** The named parameters of the insert and replace statements. */
export type SessionParams = SessionRow;

const COLUMN_FIELDS = new Set<string>(['id', 'userId', 'createdAt', 'lastSeenAt', 'idleExpiresAt', 'absoluteExpiresAt', 'revokedAt', 'revokeReason', 'version']);

/** The statement parameters for a record. */
export function toParams(s: StoredSession): SessionParams {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(s)) if (!COLUMN_FIELDS.has(key)) body[key] = value;
  return {
    id: s.id, user_id: s.userId, created_at: s.createdAt, last_seen_at: s.lastSeenAt,
    idle_expires_at: s.idleExpiresAt, absolute_expires_at: s.absoluteExpiresAt,
    revoked_at: s.revokedAt, revoke_reason: s.revokeReason, version: s.version,
    body: JSON.stringify(body),
  };
}

/** The record a row holds; a fresh object every time, so callers never share state with the store. */
export function fromRow(r: SessionRow): StoredSession {
  // Assigning onto the parsed object is several times cheaper than spreading it into a new one,
  // and this runs on every validation.
  const s = JSON.parse(r.body) as StoredSession;
  s.id = r.id;
  s.userId = r.user_id;
  s.createdAt = r.created_at;
  s.lastSeenAt = r.last_seen_at;
  s.idleExpiresAt = r.idle_expires_at;
  s.absoluteExpiresAt = r.absolute_expires_at;
  s.revokedAt = r.revoked_at;
  s.revokeReason = r.revoke_reason as RevokeReason | null;
  s.version = r.version;
  return s;
}

/** The body fields of a record: everything that is not a column. */
type Body = Omit<StoredSession, 'id' | 'userId' | 'createdAt' | 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt' | 'revokedAt' | 'revokeReason' | 'version'>;

/**
 * `fromRow` for the validation read, through the read memo (../read-memo.ts) of decoded bodies:
 * a row whose body is the same string as last time reuses its decoded, deeply frozen value. The
 * columns always come from the row just read, and the record returned is a new object; its nested
 * values (`roles`, `device`, `data`, ...) are frozen and shared, as the memory store's are (a
 * record not taken from the memo is a fresh decode).
 *
 * @example const read = rowReader(4096); read(row) deep-equals fromRow(row)
 */
export function rowReader(max: number): (r: SessionRow) => StoredSession {
  const body = readMemo(max, (_id, text) => JSON.parse(text) as Body, deepFreeze);
  return (r) => record(r, body(r.id, r.body));
}

/** A record from a row's columns and a decoded body (whose nested values it shares). */
function record(r: SessionRow, b: Body): StoredSession {
  return {
    id: r.id, secretHash: b.secretHash, previousSecretHash: b.previousSecretHash,
    previousSecretExpiresAt: b.previousSecretExpiresAt, usedSecretHashes: b.usedSecretHashes,
    generation: b.generation, tokenType: b.tokenType, userId: r.user_id, roles: b.roles,
    createdAt: r.created_at, lastSeenAt: r.last_seen_at, idleExpiresAt: r.idle_expires_at,
    absoluteExpiresAt: r.absolute_expires_at, idleTimeout: b.idleTimeout, absoluteTimeout: b.absoluteTimeout,
    policy: b.policy, authenticatedAt: b.authenticatedAt, authMethods: b.authMethods, device: b.device,
    data: b.data, version: r.version, revokedAt: r.revoked_at, revokeReason: r.revoke_reason as RevokeReason | null,
  } satisfies Required<StoredSession>;
}

/** A row of `audit`. */
export interface AuditRow {
  seq: number;
  type: string;
  at: number;
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

export function auditParams(e: StoredAuditEvent): AuditRow {
  return {
    seq: e.seq, type: e.type, at: e.at, session_id: e.sessionId, user_id: e.userId, ip: e.ip,
    user_agent: e.userAgent, reason: e.reason, detail: e.detail ?? null, actor: e.actor,
    request_id: e.requestId, token_fingerprint: e.tokenFingerprint ?? null, prev_hash: e.prevHash, hash: e.hash,
  };
}

export function auditFromRow(r: AuditRow): StoredAuditEvent {
  return {
    type: r.type as AuditEventType, at: r.at, sessionId: r.session_id, userId: r.user_id, ip: r.ip,
    userAgent: r.user_agent, reason: r.reason, actor: r.actor, requestId: r.request_id,
    tokenFingerprint: r.token_fingerprint, detail: r.detail, seq: r.seq, prevHash: r.prev_hash, hash: r.hash,
  };
}
