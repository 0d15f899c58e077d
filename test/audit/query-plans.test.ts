// The audit queries the service makes (`GET /v1/audit` with every combination of its filters and
// its cursor, the event feed's `after` polling, the stats' newest-first paging) are answered from
// indexes on SQLite and PostgreSQL: the plans are checked on populated tables, with the SQL each
// store really sends. (test/stores/ checks single filters; this is every combination.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditQuery } from '../../src/core/types.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { auditQuerySql as pgAuditSql } from '../../src/stores/postgres/audit.js';
import { tablesOf } from '../../src/stores/postgres/schema.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { auditQuerySql as sqliteAuditSql } from '../../src/stores/sqlite/audit.js';
import { adminPool, closeAdminPool, DATABASE_URL, describePg, dropSchema, randomSchema } from '../helpers/pg-env.js';

const ROWS = 6000;
const TYPES = ['session.created', 'session.revoked', 'session.rejected', 'session.renewed', 'apikey.rejected'] as const;

/** A trail with many users, sessions, types and a minute between events. */
function events(): AuditEvent[] {
  return Array.from({ length: ROWS }, (_, i) => ({
    type: TYPES[i % 97 === 0 ? 4 : i % 7 === 0 ? 1 : i % 5 === 0 ? 2 : i % 3 === 0 ? 3 : 0] as AuditEvent['type'],
    at: 1_700_000_000_000 + i * 60_000, sessionId: `s${i % 1500}`, userId: `u${i % 400}`,
    ip: '192.0.2.1', userAgent: null, reason: null, actor: null, requestId: null,
  }));
}

/** Every query `/v1/audit` can make: each subset of its filters, with and without a cursor. */
function apiQueries(): AuditQuery[] {
  const filters: AuditQuery = {
    userId: 'u7', sessionId: 's7', type: 'apikey.rejected',
    since: 1_700_000_000_000 + 100 * 60_000, until: 1_700_000_000_000 + 160 * 60_000, before: 5000,
  };
  const keys = Object.keys(filters) as (keyof AuditQuery)[];
  const out: AuditQuery[] = [];
  for (let mask = 0; mask < 1 << keys.length; mask += 1) {
    const q: AuditQuery = { limit: 100 };
    keys.forEach((k, bit) => { if (mask & (1 << bit)) (q as Record<string, unknown>)[k] = filters[k]; });
    out.push(q);
  }
  return out;
}

/** A few of the plans, printed so a reader of the test output sees them. */
function shown(store: string, plans: Map<string, string>): string {
  const picks = [{ limit: 100, userId: 'u7' }, { limit: 100, type: 'apikey.rejected', before: 5000 },
    { limit: 100, since: 1_700_006_000_000, until: 1_700_009_600_000 }, { after: 5900, limit: 500 }];
  return [`${store} audit query plans:`, ...picks.map((q) => `  ${JSON.stringify(q)}\n    ${plans.get(JSON.stringify(q))?.replace(/\n/g, '\n    ')}`)].join('\n');
}

/** The other queries of the service: the feed's poll and head, the stats' paging, a resumed stream. */
const SERVICE_QUERIES: AuditQuery[] = [{ limit: 1 }, { after: 5900, limit: 500 }, { before: 3000, limit: 1000 }, { after: 10, limit: 200 }];

describe('audit query plans on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-plans-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers every /v1/audit filter combination and the feed and stats queries from an index', async () => {
    const store = sqliteStore({ path: join(dir, 'plans.db') });
    await store.appendAudit(events());
    await store.close();
    const db = new Database(join(dir, 'plans.db'));
    db.exec('ANALYZE');
    const plan = (q: AuditQuery): string => {
      const { sql, params } = sqliteAuditSql(q);
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
    };
    const plans = new Map<string, string>();
    for (const q of [...apiQueries(), ...SERVICE_QUERIES]) {
      const p = plan(q);
      plans.set(JSON.stringify(q), p);
      const { limit: _limit, ...filters } = q;
      if (Object.keys(filters).length === 0) {
        // No filter: the newest rows in rowid order; LIMIT stops the walk after `limit` rows.
        expect(p, JSON.stringify(q)).toBe('SCAN audit');
      } else {
        expect(p, JSON.stringify(q)).toMatch(/^SEARCH audit USING (INDEX audit_by_\w+|INTEGER PRIMARY KEY) \(/);
      }
    }
    // The selective filters use their own index.
    expect(plans.get(JSON.stringify({ limit: 100, userId: 'u7' }))).toMatch(/audit_by_user/);
    expect(plans.get(JSON.stringify({ limit: 100, sessionId: 's7' }))).toMatch(/audit_by_session/);
    expect(plans.get(JSON.stringify({ limit: 100, since: 1_700_006_000_000, until: 1_700_009_600_000 }))).toMatch(/audit_by_time/);
    expect(plans.get(JSON.stringify({ after: 5900, limit: 500 }))).toMatch(/INTEGER PRIMARY KEY \(rowid>\?\)/);
    expect(plans.get(JSON.stringify({ before: 3000, limit: 1000 }))).toMatch(/INTEGER PRIMARY KEY \(rowid<\?\)/);
    db.close();
    console.log(shown('SQLite', plans));
  });
});

describePg('audit query plans on PostgreSQL', () => {
  const schema = randomSchema('plans');
  afterAll(async () => {
    await dropSchema(schema);
    await closeAdminPool();
  });

  it('answers every /v1/audit filter combination and the feed and stats queries without a sequential scan', async () => {
    const store = postgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2 });
    await store.ready();
    const all = events();
    for (let i = 0; i < all.length; i += 1000) await store.appendAudit(all.slice(i, i + 1000));
    await store.close();
    const db = adminPool();
    await db.query(`ANALYZE "${schema}".audit`);
    const t = tablesOf(schema);
    const plan = async (q: AuditQuery): Promise<string> => {
      const { text, values } = pgAuditSql(t, q);
      const r = await db.query(`EXPLAIN ${text}`, values);
      return r.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    };
    const plans = new Map<string, string>();
    for (const q of [...apiQueries(), ...SERVICE_QUERIES]) {
      const p = await plan(q);
      plans.set(JSON.stringify(q), p);
      expect(p, `${JSON.stringify(q)}\n${p}`).not.toMatch(/Seq Scan/);
    }
    expect(plans.get(JSON.stringify({ limit: 100, userId: 'u7' }))).toMatch(/audit_user_idx/);
    expect(plans.get(JSON.stringify({ limit: 100, sessionId: 's7' }))).toMatch(/audit_session_idx/);
    expect(plans.get(JSON.stringify({ limit: 100, type: 'apikey.rejected' }))).toMatch(/audit_type_idx/);
    expect(plans.get(JSON.stringify({ limit: 100, since: 1_700_006_000_000, until: 1_700_009_600_000 }))).toMatch(/audit_at_idx/);
    expect(plans.get(JSON.stringify({ after: 5900, limit: 500 }))).toMatch(/audit_pkey/);
    console.log(shown('PostgreSQL', plans));
  });
});
