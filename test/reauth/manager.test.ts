// sessions.reauthenticate on real stores: records when and how, rotates the token (the old one
// works only for the renew grace), audits session.reauthenticated in the sinks and the store's trail.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryAudit } from '../../src/audit/sink.js';
import { verifyChain } from '../../src/audit/chain.js';
import { isFresh } from '../../src/core/freshness.js';
import { createSessionManager, type IssuedSession } from '../../src/core/manager.js';
import type { SessionStore } from '../../src/stores/types.js';
import { memoryStore } from '../../src/stores/memory.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { fakeClock } from '../../src/testing/index.js';
import type { IssuedJwtSession } from '../../src/core/jwt/sessions.js';
import { closeAdminPool, DATABASE_URL, dropSchema, randomSchema } from '../helpers/pg-env.js';
import { deleteByPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis-env.js';

const MIN = 60_000;
const code = (c: string) => expect.objectContaining({ code: c });

function setup(store: SessionStore) {
  const clock = fakeClock(Date.UTC(2026, 0, 1));
  const audit = memoryAudit();
  const sessions = createSessionManager({ store, now: clock.now, audit, secret: 's'.repeat(32), renewGrace: '10s' });
  return { clock, audit, sessions };
}

function reauthOn(label: string, makeStore: () => Promise<SessionStore> | SessionStore) {
  describe(`reauthenticate on the ${label} store`, () => {
    it('records the new time and methods, rotates the token, and audits it in the sinks and the store trail', async () => {
      const { clock, audit, sessions } = setup(await makeStore());
      try {
        const created = await sessions.create({ userId: 'alice', authMethods: ['password'] }, { ip: '203.0.113.9' });
        expect(created.session.authenticatedAt.getTime()).toBe(clock.now());
        expect(created.session.authMethods).toEqual(['password']);
        clock.advance(20 * MIN);
        const stale = await sessions.validate(created.token);
        expect(isFresh(stale, sessions.recentAuth(), clock.now())).toBe(false);

        const again = await sessions.reauthenticate(created.session.id, { methods: ['password', 'totp'] }, { ip: '203.0.113.9', requestId: 'r-1' }) as IssuedSession;
        expect(again.token).not.toBe(created.token);
        expect(again.session).toMatchObject({ id: created.session.id, authMethods: ['password', 'totp'] });
        expect(again.session.authenticatedAt.getTime()).toBe(clock.now());
        expect(again.expiresAt.getTime()).toBe(clock.now() + sessions.options.idleTimeout);
        const fresh = await sessions.validate(again.token);
        expect(isFresh(fresh, sessions.recentAuth({ methods: ['totp'] }), clock.now())).toBe(true);

        // The old token keeps working for the renew grace only, and never yields the new token.
        clock.advance(9_000);
        expect((await sessions.validate(created.token)).id).toBe(created.session.id);
        await expect(sessions.renew(created.token)).rejects.toThrow(code('token_invalid'));
        clock.advance(1_000);
        await expect(sessions.validate(created.token)).rejects.toThrow(code('token_invalid'));
        expect((await sessions.validate(again.token)).authMethods).toEqual(['password', 'totp']);

        const sunk = audit.events.filter((e) => e.type === 'session.reauthenticated');
        expect(sunk).toEqual([expect.objectContaining({ sessionId: created.session.id, userId: 'alice', detail: 'password,totp', ip: '203.0.113.9', requestId: 'r-1' })]);
        const trail = await sessions.store.queryAudit({ sessionId: created.session.id });
        expect(trail.map((e) => e.type)).toContain('session.reauthenticated');
        expect(trail.find((e) => e.type === 'session.reauthenticated')).toMatchObject({ userId: 'alice', detail: 'password,totp' });
        expect(JSON.stringify(trail)).not.toContain(again.token.split('.')[1]);
        expect(verifyChain([...trail].sort((a, b) => a.seq - b.seq)).ok).toBe(true);
      } finally {
        await sessions.close();
      }
    });

    it('refuses unknown, revoked and expired sessions and bad methods', async () => {
      const { clock, sessions } = setup(await makeStore());
      try {
        await expect(sessions.reauthenticate('no-such-session', { methods: ['password'] })).rejects.toThrow(code('session_not_found'));
        const a = await sessions.create({ userId: 'bob' });
        for (const methods of [[], 'password', ['a b'], undefined]) {
          await expect(sessions.reauthenticate(a.session.id, { methods } as never), JSON.stringify(methods)).rejects.toThrow(code('invalid_request'));
        }
        await sessions.revoke(a.session.id);
        await expect(sessions.reauthenticate(a.session.id, { methods: ['password'] })).rejects.toThrow(code('session_revoked'));
        const b = await sessions.create({ userId: 'bob' });
        clock.advance(sessions.options.idleTimeout);
        await expect(sessions.reauthenticate(b.session.id, { methods: ['password'] })).rejects.toThrow(code('session_expired'));
      } finally {
        await sessions.close();
      }
    });
  });
}

reauthOn('memory', () => memoryStore());

const dirs: string[] = [];
reauthOn('SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-reauth-'));
  dirs.push(dir);
  return sqliteStore({ path: join(dir, 'sessions.db') });
});

const prefixes: string[] = [];
reauthOn('Redis', () => {
  const prefix = uniquePrefix('reauth');
  prefixes.push(prefix);
  return redisStore({ url: REDIS_URL, prefix });
});

const schemas: string[] = [];
reauthOn('PostgreSQL', () => {
  const schema = randomSchema('reauth');
  schemas.push(schema);
  return postgresStore({ connectionString: DATABASE_URL, schema });
});

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  const redis = new Redis(REDIS_URL);
  for (const prefix of prefixes) await deleteByPrefix(redis, prefix);
  redis.disconnect();
  for (const schema of schemas) await dropSchema(schema);
  await closeAdminPool();
});

describe('reauthenticate on a JWT session', () => {
  it('issues a new access token carrying the new auth_time and amr, and a new refresh token; the old refresh token is superseded', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1));
    const sessions = createSessionManager({
      store: memoryStore(), now: clock.now, secret: 's'.repeat(32), jwt: { issuer: 'https://id.example', audience: 'app', rotateEvery: false },
      checkRevocation: 'cached', refreshGrace: '10s',
    });
    try {
      const created = await sessions.create({ userId: 'carol', authMethods: ['password'], tokenType: 'jwt' });
      clock.advance(20 * MIN);
      const refreshed = await sessions.refresh(created.refreshToken);
      const again = await sessions.reauthenticate(created.session.id, { methods: ['webauthn'] }) as IssuedJwtSession;
      expect(again.accessToken).not.toBe(refreshed.accessToken);
      expect(again.refreshToken).not.toBe(refreshed.refreshToken);
      const viaNew = await sessions.validate(again.accessToken);
      expect(viaNew.authMethods).toEqual(['webauthn']);
      expect(isFresh(viaNew, sessions.recentAuth({ maxAge: '1m' }), clock.now())).toBe(true);
      // An access token issued before keeps the authentication it was issued with: not fresh.
      const viaOld = await sessions.validate(refreshed.accessToken);
      expect(viaOld.authMethods).toEqual(['password']);
      expect(isFresh(viaOld, sessions.recentAuth(), clock.now())).toBe(false);
      // The old refresh token is no longer the live one; the new one refreshes.
      await expect(sessions.refresh(refreshed.refreshToken)).rejects.toThrow(code('token_invalid'));
      const next = await sessions.refresh(again.refreshToken);
      expect((await sessions.validate(next.accessToken)).authMethods).toEqual(['webauthn']);
    } finally {
      await sessions.close();
    }
  });
});

describe('the reauth option', () => {
  it('sets the default maxAge and role rules, and rejects bad values when the manager is built', () => {
    const sessions = createSessionManager({ store: memoryStore(), reauth: { maxAge: '5m', roles: { admin: { maxAge: '12h', methods: ['totp'] } } } });
    expect(sessions.recentAuth()).toEqual({ maxAge: 5 * MIN, roles: { admin: { maxAge: 12 * 60 * MIN, methods: ['totp'] } } });
    expect(sessions.recentAuth({ maxAge: '1m', methods: ['password'] })).toMatchObject({ maxAge: MIN, methods: ['password'] });
    expect(() => sessions.recentAuth({ maxAge: -1 })).toThrow(code('invalid_request'));
    expect(() => createSessionManager({ store: memoryStore(), reauth: { maxAge: '0s' } })).toThrow(code('invalid_request'));
    expect(() => createSessionManager({ store: memoryStore(), reauth: { roles: { admin: { methods: ['no spaces allowed'] } } } })).toThrow(code('invalid_request'));
  });
});
