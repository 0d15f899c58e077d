/**
 * The SQLite store's audit trail: appends that extend the hash chain inside the caller's
 * transaction, and queries that always go through an index (seq, user, session, type or time).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { GENESIS_HASH, linkEvents } from '../../audit/chain.js';
import { SessionError } from '../../core/errors.js';
import type { AuditEvent, AuditQuery, StoredAuditEvent } from '../../core/types.js';
import { auditFromRow, auditParams, type AuditRow } from './rows.js';

/** Most events one query returns, whatever the caller asks. */
export const MAX_AUDIT_LIMIT = 10_000;

const FILTERS = [
  ['userId', 'user_id = ?', 'string'],
  ['sessionId', 'session_id = ?', 'string'],
  ['type', 'type = ?', 'string'],
  ['ip', 'ip = ?', 'string'],
  ['since', 'at >= ?', 'number'],
  ['until', 'at < ?', 'number'],
  ['before', 'seq < ?', 'number'],
  ['after', 'seq > ?', 'number'],
] as const;

/**
 * The SELECT for an audit query and its parameters, after checking the query's fields. Every
 * filter has an index (seq is the rowid), so no combination scans the table.
 *
 * @example auditQuerySql({ userId: 'u1', limit: 20 }) // { sql: 'SELECT * FROM audit WHERE user_id = ? ORDER BY seq DESC LIMIT ?', params: ['u1', 20] }
 */
export function auditQuerySql(q: AuditQuery): { sql: string; params: unknown[] } {
  if (typeof q !== 'object' || q === null) throw new SessionError('invalid_request', 'queryAudit: expected a query object');
  const limit = q.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 0) throw new SessionError('invalid_request', 'queryAudit: limit must be a non-negative integer');
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [field, clause, kind] of FILTERS) {
    const value = q[field];
    if (value === undefined) continue;
    if (typeof value !== kind || (kind === 'number' && !Number.isFinite(value))) {
      throw new SessionError('invalid_request', `queryAudit: ${field} must be a ${kind === 'number' ? 'finite number' : 'string'}`);
    }
    where.push(clause);
    params.push(value);
  }
  // Newest first for pages; oldest first when tailing after a known event.
  const order = q.after !== undefined ? 'ASC' : 'DESC';
  params.push(Math.min(limit, MAX_AUDIT_LIMIT));
  // With only a time range, SQLite would walk seq order and test each row's time; the time index
  // finds the range directly (and the sorter keeps just `limit` rows).
  const timeOnly = (q.since !== undefined || q.until !== undefined) && q.userId === undefined && q.sessionId === undefined && q.type === undefined && q.ip === undefined;
  const from = timeOnly ? 'audit INDEXED BY audit_by_time' : 'audit';
  return { sql: `SELECT * FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ?`, params };
}

export interface AuditTrail {
  /** Links and inserts events; call it inside the transaction of the change they describe. */
  append(events: AuditEvent[]): void;
  query(q: AuditQuery): StoredAuditEvent[];
}

/**
 * Prepares the trail's statements on an open database.
 *
 * @example const trail = auditTrail(db); db.transaction(() => { change(); trail.append(events) }).immediate()
 */
export function auditTrail(db: BetterSqlite3.Database): AuditTrail {
  const last = db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare<AuditRow>(`INSERT INTO audit (seq, type, at, session_id, user_id, ip, user_agent, reason, detail, actor, request_id, token_fingerprint, prev_hash, hash)
    VALUES (@seq, @type, @at, @session_id, @user_id, @ip, @user_agent, @reason, @detail, @actor, @request_id, @token_fingerprint, @prev_hash, @hash)`);
  // One statement per combination of filters, prepared on first use (at most 2^7 * 2 of them).
  const queries = new Map<string, BetterSqlite3.Statement<unknown[], AuditRow>>();

  return {
    append(events) {
      if (events.length === 0) return;
      const tail = last.get();
      for (const e of linkEvents(events, tail?.seq ?? 0, tail?.hash ?? GENESIS_HASH)) insert.run(auditParams(e));
    },
    query(q) {
      const { sql, params } = auditQuerySql(q);
      let statement = queries.get(sql);
      if (!statement) queries.set(sql, (statement = db.prepare<unknown[], AuditRow>(sql)));
      return statement.all(...params).map(auditFromRow);
    },
  };
}
