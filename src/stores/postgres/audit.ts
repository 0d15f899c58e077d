/**
 * The audit trail in PostgreSQL: appends link events onto the hash chain inside the caller's
 * transaction (so an event exists exactly when its change committed), and queries are built so
 * each filter has an index to walk (user_id, session_id, type and at, each paired with seq).
 */
import type { PoolClient } from 'pg';
import { linkEvents } from '../../audit/chain.js';
import { SessionError } from '../../core/errors.js';
import type { AuditEvent, AuditQuery, StoredAuditEvent } from '../../core/types.js';
import { AUDIT_SELECT, auditToRow } from './rows.js';
import type { Tables } from './schema.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

/**
 * Appends `events` to the chain. Locks the chain-head row first, so concurrent appends queue up
 * behind each other for the rest of their transactions; callers do this last, to hold the lock
 * for as short a time as possible (one insert and the commit).
 *
 * @example await transaction(pool, async (c) => { ...change...; await appendEvents(c, tables, events); });
 */
export async function appendEvents(client: PoolClient, t: Tables, events: AuditEvent[]): Promise<StoredAuditEvent[]> {
  if (events.length === 0) return [];
  const head = await client.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${t.auditHead} WHERE id = 1 FOR UPDATE`);
  const row = head.rows[0];
  if (!row) throw new SessionError('store_unavailable', `postgres store: the audit chain head of schema "${t.schema}" is missing`);
  const linked = linkEvents(events, Number(row.seq), row.hash);
  const last = linked[linked.length - 1] as StoredAuditEvent;
  await client.query(
    `WITH added AS (INSERT INTO ${t.audit} SELECT * FROM jsonb_populate_recordset(NULL::${t.audit}, $1::jsonb))
     UPDATE ${t.auditHead} SET seq = $2, hash = $3 WHERE id = 1`,
    [JSON.stringify(linked.map(auditToRow)), last.seq, last.hash],
  );
  return linked;
}

function checkedNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SessionError('invalid_request', `audit query ${field}: expected a number`);
  return value;
}

/**
 * The SQL for an `AuditQuery`: newest first, or oldest first after a cursor (`after`).
 *
 * @example const { text, values } = auditQuerySql(tables, { userId: 'u1', limit: 20 });
 */
export function auditQuerySql(t: Tables, q: AuditQuery): { text: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (column: string, op: string, value: unknown): void => {
    values.push(value);
    where.push(`${column} ${op} $${values.length}`);
  };
  if (q.userId !== undefined) add('user_id', '=', String(q.userId));
  if (q.sessionId !== undefined) add('session_id', '=', String(q.sessionId));
  if (q.type !== undefined) add('type', '=', String(q.type));
  if (q.ip !== undefined) add('ip', '=', String(q.ip));
  if (q.since !== undefined) add('at', '>=', checkedNumber(q.since, 'since'));
  if (q.until !== undefined) add('at', '<', checkedNumber(q.until, 'until'));
  if (q.before !== undefined) add('seq', '<', checkedNumber(q.before, 'before'));
  if (q.after !== undefined) add('seq', '>', checkedNumber(q.after, 'after'));
  const limit = q.limit === undefined ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, Math.max(1, Math.floor(checkedNumber(q.limit, 'limit'))));
  values.push(limit);
  const order = q.after !== undefined ? 'ASC' : 'DESC';
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return { text: `SELECT ${AUDIT_SELECT} FROM ${t.audit} ${filter} ORDER BY seq ${order} LIMIT $${values.length}`, values };
}
