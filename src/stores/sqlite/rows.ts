/**
 * Mapping between `StoredSession` / `StoredAuditEvent` and the SQLite store's rows.
 * Session fields the store filters or changes in place are columns; the rest is one JSON body.
 */
import type { AuditEventType, RevokeReason, StoredAuditEvent, StoredSession } from '../../core/types.js';
import { deepFreeze } from '../freeze.js';

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
 * `fromRow` for the validation read, with a bounded memo of decoded bodies: a session's body
 * changes only when the record is rewritten (renew, update, revoke), while `validate` reads it on
 * every request, and `JSON.parse` of the ~540-byte body is most of the store's cost over the bare
 * `SELECT` (docs/PERFORMANCE.md). The memo keeps, per session id, the body string last read and its
 * decoded, deeply frozen value; a row whose body is the same string (compared in full, so a change
 * by any process is seen) reuses it. The columns always come from the row just read. The record
 * returned is a new object; its nested values (`roles`, `device`, `data`, ...) are frozen and
 * shared, as the memory store's are (a record not taken from the memo is a fresh decode). At most
 * `max` entries (two generations of `max / 2`).
 *
 * @example const read = rowReader(4096); read(row) deep-equals fromRow(row)
 */
export function rowReader(max: number): (r: SessionRow) => StoredSession {
  // Two generations instead of one map with oldest-first eviction: deleting from the front of a
  // Map leaves holes that every later `keys().next()` walks. A full young generation becomes the
  // old one (the older is dropped whole); an entry read from the old generation moves back to the
  // young one. Only one decode in eight is remembered: a session read again and again gets in
  // within a few reads, while a hot set larger than the memo (where most reads miss anyway) does
  // not pay for freezing and retaining every decoded body (measured: 0.50x instead of 0.62x of the
  // floor with 20,000 hot sessions when every miss was remembered).
  const half = Math.max(1, Math.floor(max / 2));
  let young = new Map<string, { body: string; value: Body }>();
  let old = new Map<string, { body: string; value: Body }>();
  let decoded = 0;
  return (r) => {
    let m = young.get(r.id);
    if (m === undefined || m.body !== r.body) {
      const aged = old.get(r.id);
      if (aged !== undefined && aged.body === r.body) {
        m = aged;
      } else {
        const value = JSON.parse(r.body) as Body;
        if ((decoded++ & 7) !== 0) return record(r, value);
        m = { body: r.body, value: deepFreeze(value) };
      }
      if (young.size >= half) {
        old = young;
        young = new Map();
      }
      young.set(r.id, m);
    }
    return record(r, m.value);
  };
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
