// Invalid attempts: one IP guessing session tokens is rate-limited and audited, while valid users
// on other IPs are untouched, and `GET /v1/audit?type=session.rejected&ip=<ip>` counts the
// guesses of that one address. The `ip` filter is answered from an index on SQLite and PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { AuditEvent } from '../../src/core/types.js';
import { buildServer } from '../../src/server/index.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { auditQuerySql as pgAuditSql } from '../../src/stores/postgres/audit.js';
import { tablesOf } from '../../src/stores/postgres/schema.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { auditQuerySql as sqliteAuditSql } from '../../src/stores/sqlite/audit.js';
import { describeIfAvailable, tcpReachable } from '../helpers/availability.js';
import { adminPool, closeAdminPool, DATABASE_URL, describePg, dropSchema, randomSchema } from '../helpers/pg-env.js';
import { deleteByPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis-env.js';

const ADMIN_KEY = 'guessing-admin-key-0123456789abcdef';
const ATTACKER = '203.0.113.66';
const LIMIT = 10;
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-guessing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const guess = (): string => `sk_${randomBytes(32).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

/** A trail of events from many IPs, for the query plans. */
function events(): AuditEvent[] {
  return Array.from({ length: 4000 }, (_, i) => ({
    type: i % 3 === 0 ? 'session.rejected' : 'session.created', at: 1_700_000_000_000 + i * 1000, sessionId: `s${i % 900}`, userId: `u${i % 300}`,
    ip: `198.51.100.${i % 250}`, userAgent: null, reason: i % 3 === 0 ? 'not_found' : null, actor: null, requestId: null,
  }));
}

describe('guessing tokens from one IP', () => {
  it('is limited to the attempt limit and audited per IP, while valid users elsewhere get through every time', async () => {
    const config = loadConfig({ env: {}, argv: ['--store', `sqlite:${join(dir, 'guessing.db')}`, '--admin-key', ADMIN_KEY, '--trust-proxy', 'true',
      '--rate-limit', `${LIMIT}/1m`, '--log-level', 'silent', '--sweep-interval', '0', '--master-key', randomBytes(32).toString('base64')] });
    const app = await buildServer(config);
    try {
      const login = async (userId: string, ip: string) => {
        const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY, 'x-forwarded-for': ip }, payload: { userId } });
        return (res.json() as { token: string }).token;
      };
      const users = await Promise.all([1, 2, 3].map(async (n) => ({ ip: `198.51.100.${n}`, token: await login(`guess-user-${n}`, `198.51.100.${n}`) })));
      const attackerOwn = await login('guess-attacker', ATTACKER);
      const answers: number[] = [];
      for (let i = 0; i < 4 * LIMIT; i += 1) {
        const res = await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { authorization: `Bearer ${guess()}`, 'x-forwarded-for': ATTACKER } });
        answers.push(res.statusCode);
        if (res.statusCode === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        // Interleaved: the valid users on other addresses are never slowed down or refused.
        for (const u of users) {
          const ok = await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { authorization: `Bearer ${u.token}`, 'x-forwarded-for': u.ip } });
          expect(ok.statusCode).toBe(200);
        }
      }
      expect(answers.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(401));
      expect(answers.slice(LIMIT)).toEqual(Array(3 * LIMIT).fill(429));
      // Once blocked, even a valid token from that address is refused: answering it would tell a guesser which guess was right.
      const own = await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { authorization: `Bearer ${attackerOwn}`, 'x-forwarded-for': ATTACKER } });
      expect(own.statusCode).toBe(429);
      // One guess from a valid user's address counts for that address only.
      expect((await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { authorization: `Bearer ${guess()}`, 'x-forwarded-for': users[0]!.ip } })).statusCode).toBe(401);

      const audit = async (query: string) => {
        const res = await app.inject({ method: 'GET', url: `/v1/audit?${query}`, headers: { 'x-api-key': ADMIN_KEY } });
        expect(res.statusCode).toBe(200);
        return (res.json() as { events: { ip: string; reason: string; tokenFingerprint: string | null }[] }).events;
      };
      const rejected = await audit(`type=session.rejected&ip=${ATTACKER}&limit=1000`);
      expect(rejected.every((e) => e.ip === ATTACKER)).toBe(true);
      // Every guess that got an answer was audited with a fingerprint; the flood behind the limit once per window.
      expect(rejected.filter((e) => e.reason === 'not_found')).toHaveLength(LIMIT);
      expect(rejected.filter((e) => e.reason === 'rate_limited')).toHaveLength(1);
      expect(rejected.every((e) => typeof e.tokenFingerprint === 'string' && e.tokenFingerprint.length === 12)).toBe(true);
      expect(await audit(`type=session.rejected&ip=${users[0]!.ip}`)).toHaveLength(1);
      expect(await audit(`type=session.rejected&ip=${users[1]!.ip}`)).toHaveLength(0);
      expect((await audit(`ip=${users[1]!.ip}`)).map((e) => e.ip)).toEqual([users[1]!.ip]);
    } finally {
      await app.close();
    }
  });

  it('answers the ip filter from an index on SQLite', async () => {
    const path = join(dir, 'plans.db');
    const store = sqliteStore({ path });
    await store.appendAudit(events());
    expect((await store.queryAudit({ ip: '198.51.100.7', type: 'session.rejected', limit: 1000 })).every((e) => e.ip === '198.51.100.7' && e.type === 'session.rejected')).toBe(true);
    await store.close();
    const db = new Database(path);
    try {
      db.exec('ANALYZE');
      for (const q of [{ ip: '198.51.100.7', limit: 100 }, { ip: '198.51.100.7', type: 'session.rejected', limit: 100 }, { ip: '198.51.100.7', before: 3000, limit: 100 }]) {
        const { sql, params } = sqliteAuditSql(q);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
        expect(plan, JSON.stringify(q)).toMatch(/^SEARCH audit USING (INDEX audit_by_\w+|INTEGER PRIMARY KEY) \(/);
        if (q.type === undefined && q.before === undefined) expect(plan).toMatch(/audit_by_ip/);
      }
    } finally {
      db.close();
    }
  });
});

describePg('the ip filter on PostgreSQL', () => {
  const schema = randomSchema('guess');
  afterAll(async () => {
    await dropSchema(schema);
    await closeAdminPool();
  });

  it('answers the ip filter from an index', async () => {
    const store = postgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2 });
    await store.ready();
    await store.appendAudit(events());
    expect((await store.queryAudit({ ip: '198.51.100.7', limit: 1000 })).every((e) => e.ip === '198.51.100.7')).toBe(true);
    await store.close();
    await adminPool().query(`ANALYZE "${schema}".audit`);
    for (const q of [{ ip: '198.51.100.7', limit: 100 }, { ip: '198.51.100.7', type: 'session.rejected', limit: 100 }]) {
      const { text, values } = pgAuditSql(tablesOf(schema), q);
      const plan = (await adminPool().query(`EXPLAIN ${text}`, values)).rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
      expect(plan, plan).not.toMatch(/Seq Scan/);
      if (q.type === undefined) expect(plan).toMatch(/audit_ip_idx/);
    }
  });
});

describeIfAvailable(await tcpReachable(REDIS_URL), 'Redis', 'REDIS_URL', REDIS_URL)('the ip filter on Redis', () => {
  it('keeps only the events of that address (the stream is filtered as it is read)', async () => {
    const prefix = uniquePrefix('guess');
    const store = await redisStore({ url: REDIS_URL, prefix });
    try {
      await store.appendAudit(events().slice(0, 600));
      const found = await store.queryAudit({ ip: '198.51.100.7', type: 'session.rejected', limit: 1000 });
      expect(found.length).toBeGreaterThan(0);
      expect(found.every((e) => e.ip === '198.51.100.7' && e.type === 'session.rejected')).toBe(true);
      expect(found).toHaveLength(events().slice(0, 600).filter((e) => e.ip === '198.51.100.7' && e.type === 'session.rejected').length);
    } finally {
      await deleteByPrefix(store.client, prefix);
      await store.close();
    }
  });
});
