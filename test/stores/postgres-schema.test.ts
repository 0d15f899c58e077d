/**
 * Start-up and layout of the PostgreSQL store: migrations run once under an advisory lock, a newer
 * schema is refused, options are checked, and the hot queries walk indexes instead of scanning.
 */
import pg from 'pg';
import { afterAll, afterEach, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import type { AuditEvent } from '../../src/core/types.js';
import { postgresStore, type PostgresStore } from '../../src/stores/postgres.js';
import { LATEST_VERSION } from '../../src/stores/postgres/schema.js';
import { adminPool, closeAdminPool, DATABASE_URL, describePg, dropSchema, randomSchema } from '../helpers/pg-env.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof SessionError ? err.code : 'not a SessionError';
  }
  return undefined;
}

describePg('postgres store schema', () => {
  const stores: PostgresStore[] = [];
  const schemas = new Set<string>();
  const make = (schema: string, extra: Partial<Parameters<typeof postgresStore>[0]> = {}): PostgresStore => {
    schemas.add(schema);
    const s = postgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2, ...extra });
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const schema of schemas) await dropSchema(schema);
    schemas.clear();
  });
  afterAll(closeAdminPool);

  it('migrates a fresh schema once when two stores start together', async () => {
    const schema = randomSchema('mig');
    const [a, b] = [make(schema), make(schema)];
    const results = await Promise.all([a.ready(), b.ready()]);
    expect(results.map((r) => r.applied).sort((x, y) => y.length - x.length)).toEqual([[1, 2], []]);
    const rows = await adminPool().query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
    expect(rows.rows).toEqual([{ version: 1 }, { version: 2 }]);
    expect(LATEST_VERSION).toBe(2);
    const again = make(schema);
    expect((await again.ready()).applied).toEqual([]);
  });

  it('refuses a schema migrated by a newer sessionkit', async () => {
    const schema = randomSchema('mig');
    await make(schema).ready();
    await adminPool().query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (99, 'from the future')`);
    const err = await make(schema).ready().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(SessionError);
    expect((err as SessionError).code).toBe('store_unavailable');
    expect((err as SessionError).message).toMatch(/newer than this sessionkit knows/);
  });

  it('checks its options', () => {
    expect(codeOf(() => postgresStore({} as never))).toBe('invalid_request');
    expect(codeOf(() => postgresStore({ connectionString: DATABASE_URL, pool: new pg.Pool() }))).toBe('invalid_request');
    expect(codeOf(() => postgresStore({ connectionString: DATABASE_URL, schema: 'Robert"); DROP TABLE x;--' }))).toBe('invalid_request');
    expect(codeOf(() => postgresStore({ connectionString: DATABASE_URL, schema: 'x'.repeat(61) }))).toBe('invalid_request');
    expect(codeOf(() => postgresStore({ connectionString: DATABASE_URL, timeout: 'soon' }))).toBe('invalid_request');
    expect(codeOf(() => postgresStore({ connectionString: DATABASE_URL, poolSize: 0 }))).toBe('invalid_request');
    expect(codeOf(() => postgresStore({ connectionString: DATABASE_URL }))).toBeUndefined();
    expect(codeOf(() => postgresStore({ connectionString: DATABASE_URL, schema: `Mixed_${'x'.repeat(54)}` }))).toBeUndefined();
  });

  it('works in a 60-character mixed-case schema, notifications included', async () => {
    const schema = `Sk_${randomSchema('case').slice(3)}`.padEnd(60, 'X');
    const [a, b] = [make(schema), make(schema)];
    await Promise.all([a.ready(), b.ready()]);
    const heard = new Promise((resolve) => { a.watch(resolve); });
    await a.listening();
    await b.putRecord('signing-keys', 'k', { kid: 'k' });
    expect(await heard).toEqual({ type: 'keys', at: expect.any(Number) });
    expect(await a.getRecord('signing-keys', 'k')).toEqual({ kid: 'k' });
  });

  it('uses a pool the application passes in and leaves it open on close', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const store = make(randomSchema('pool'), { connectionString: undefined, pool });
      expect(await store.putRecord('things', 'a', { v: 1 })).toBe(true);
      await store.close();
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('answers get, listForUser, sweeps and audit queries from indexes', async () => {
    const schema = randomSchema('idx');
    const store = make(schema);
    await store.ready();
    const db = adminPool();
    // Enough rows that a sequential scan would be the planner's choice if an index were missing.
    await db.query(`INSERT INTO "${schema}".sessions (id, user_id, secret_hash, generation, token_type, roles, created_at,
        last_seen_at, idle_expires_at, absolute_expires_at, idle_timeout, absolute_timeout, authenticated_at, auth_methods,
        device, data, version)
      SELECT 'id' || g, 'user' || (g % 500), md5(g::text), 0, 'opaque', '{}', g, g, g + 1000, g + 5000, 1000, 5000, g, '{}', '{}', '{}', 1
      FROM generate_series(1, 5000) g`);
    const base: AuditEvent = { type: 'session.created', at: 0, sessionId: null, userId: null, ip: null, userAgent: null, reason: null, actor: null, requestId: null };
    await store.appendAudit(Array.from({ length: 5000 }, (_, i) => ({
      ...base, type: i % 50 === 0 ? 'session.revoked' as const : 'session.created' as const, at: i, sessionId: `id${i}`, userId: `user${i % 500}`,
    })));
    await db.query(`ANALYZE "${schema}".sessions`);
    await db.query(`ANALYZE "${schema}".audit`);
    const plan = async (sql: string, values: unknown[]): Promise<string> => {
      const r = await db.query(`EXPLAIN ${sql}`, values);
      return r.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    };
    const s = `"${schema}".sessions`;
    const a = `"${schema}".audit`;
    expect(await plan(`SELECT * FROM ${s} WHERE id = $1`, ['id7'])).toMatch(/Index Scan using sessions_pkey/);
    expect(await plan(`SELECT * FROM ${s} WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2 ORDER BY created_at, id`, ['user7', 10]))
      .toMatch(/sessions_user_idx/);
    expect(await plan(`SELECT id FROM ${s} WHERE retain_until <= $1 ORDER BY retain_until LIMIT $2 FOR UPDATE SKIP LOCKED`, [1100, 100]))
      .toMatch(/sessions_retention_idx/);
    for (const [filter, value] of [['user_id', 'user7'], ['session_id', 'id7'], ['type', 'session.revoked']] as const) {
      const desc = await plan(`SELECT * FROM ${a} WHERE ${filter} = $1 ORDER BY seq DESC LIMIT 100`, [value]);
      expect(desc, filter).not.toMatch(/Seq Scan/);
      const asc = await plan(`SELECT * FROM ${a} WHERE ${filter} = $1 AND seq > $2 ORDER BY seq ASC LIMIT 100`, [value, 10]);
      expect(asc, filter).not.toMatch(/Seq Scan/);
    }
    expect(await plan(`SELECT * FROM ${a} WHERE at >= $1 AND at < $2 ORDER BY seq DESC LIMIT 100`, [100, 200])).not.toMatch(/Seq Scan/);
    // And the store's own query answers the same filters.
    const events = await store.queryAudit({ type: 'session.revoked', limit: 3 });
    expect(events.map((e) => e.at)).toEqual([4950, 4900, 4850]);
    const tail = await store.queryAudit({ userId: 'user7', after: 1000, limit: 2 });
    expect(tail.map((e) => e.seq)).toEqual([1008, 1508]);
  });
});
