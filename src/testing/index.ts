/**
 * The conformance suite every `SessionStore` passes: run it from a vitest file with
 * `storeSuite('sqlite', () => sqliteStore({ path }))`. Third-party stores can prove themselves the
 * same way. Time is a fake clock moved by the tests, never slept on.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createSessionManager, type SessionManagerOptions } from '../core/manager.js';
import { SessionError } from '../core/errors.js';
import type { AuditEvent } from '../core/types.js';
import type { SessionStore } from '../stores/types.js';
import { memoryAudit } from '../audit/sink.js';

export interface StoreSuiteOptions {
  /** Called after each test with the store it made (drop tables, delete keys). */
  cleanup?: (store: SessionStore) => Promise<void> | void;
  /** Makes the store unable to answer (stop the server, close the handle). Defaults to `close()`. */
  breakStore?: (store: SessionStore) => Promise<void> | void;
}

/** A clock the tests move by hand. */
export function fakeClock(start = Date.UTC(2026, 0, 1)): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; }, set: (ms) => { t = ms; } };
}

/** Wraps a store so tests can count the calls of each method. */
export function countingStore(inner: SessionStore): SessionStore & { calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const wrapped = Object.create(null) as SessionStore & { calls: Record<string, number> };
  for (const key of Object.keys(inner) as (keyof SessionStore)[]) {
    const value = inner[key];
    if (typeof value === 'function') {
      (wrapped as unknown as Record<string, unknown>)[key] = (...args: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(inner, args);
      };
    } else {
      (wrapped as unknown as Record<string, unknown>)[key] = value;
    }
  }
  wrapped.calls = calls;
  return wrapped;
}

/** Awaits a call that must fail with a `SessionError` of this code, and returns the error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<SessionError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    expect((err as SessionError).code).toBe(code);
    return err as SessionError;
  }
  throw new Error(`expected SessionError ${code}, but the call resolved`);
}

/**
 * Registers the conformance tests for one store. `makeStore` is called for every test and must
 * return a fresh, empty store (its own prefix, schema or file).
 */
export function storeSuite(label: string, makeStore: () => Promise<SessionStore> | SessionStore, suiteOptions: StoreSuiteOptions = {}): void {
  describe(`${label} store conformance`, () => {
    let store: SessionStore;
    let clock: ReturnType<typeof fakeClock>;
    let trail: ReturnType<typeof memoryAudit>;
    const made: SessionStore[] = [];

    const manager = (opts: Partial<SessionManagerOptions> = {}) => createSessionManager({
      store, now: clock.now, audit: [trail], secret: 'conformance-suite-secret-0123456789abcdef', ...opts,
    });

    beforeEach(async () => {
      clock = fakeClock();
      trail = memoryAudit();
      store = await makeStore();
      made.push(store);
    });

    afterEach(async () => {
      for (const s of made.splice(0)) {
        if (suiteOptions.cleanup) await suiteOptions.cleanup(s);
        await s.close().catch(() => {});
      }
    });

    it('round-trips every field of a session', async () => {
      const sessions = manager();
      const { session, token, expiresAt } = await sessions.create({
        userId: 'user-1', roles: ['user', 'editor'], authMethods: ['password'],
        device: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.9', label: 'work laptop' },
        data: { theme: 'dark', nested: { n: 1, list: [1, 'two', null] }, unicode: 'żółw ✓' },
      });
      const seen = await sessions.validate(token);
      expect(seen).toEqual(session);
      expect(seen.device).toEqual({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.9', label: 'work laptop', browser: 'Firefox', os: 'Linux', type: 'desktop' });
      expect(seen.data).toEqual({ theme: 'dark', nested: { n: 1, list: [1, 'two', null] }, unicode: 'żółw ✓' });
      expect(seen.roles).toEqual(['user', 'editor']);
      expect(seen.authMethods).toEqual(['password']);
      expect(seen.createdAt.getTime()).toBe(clock.now());
      expect(seen.idleExpiresAt.getTime()).toBe(clock.now() + 30 * 60_000);
      expect(seen.absoluteExpiresAt.getTime()).toBe(clock.now() + 8 * 3_600_000);
      expect(expiresAt.getTime()).toBe(seen.idleExpiresAt.getTime());
      const raw = await store.get(session.id);
      expect(raw?.secretHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(raw)).not.toContain(token.split('.')[1]);
    });

    it('issues a new token at every login and never reuses one', async () => {
      const sessions = manager();
      const a = await sessions.create({ userId: 'u' });
      const b = await sessions.create({ userId: 'u' });
      expect(a.token).not.toBe(b.token);
      expect(a.session.id).not.toBe(b.session.id);
      expect(a.token).toMatch(/^sk_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    });

    it('rejects a token whose secret does not match with token_invalid', async () => {
      const sessions = manager();
      const { token } = await sessions.create({ userId: 'u' });
      const [head] = token.split('.');
      await expectCode(sessions.validate(`${head}.${'A'.repeat(43)}`), 'token_invalid');
    });

    it('rejects an unknown session id with session_not_found', async () => {
      const sessions = manager();
      await expectCode(sessions.validate(`sk_${'B'.repeat(43)}.${'A'.repeat(43)}`), 'session_not_found');
    });

    it('expires a session after the idle timeout', async () => {
      const sessions = manager({ idleTimeout: '10m', touchInterval: 0 });
      const { token } = await sessions.create({ userId: 'u' });
      clock.advance(9 * 60_000);
      await sessions.validate(token);
      clock.advance(9 * 60_000);
      await sessions.validate(token);
      clock.advance(10 * 60_000);
      const err = await expectCode(sessions.validate(token), 'session_expired');
      expect(err.details.expiry).toBe('idle');
      expect(trail.events.at(-1)).toMatchObject({ type: 'session.rejected', reason: 'expired', detail: 'idle' });
    });

    it('expires a session at its absolute lifetime however active it is', async () => {
      const sessions = manager({ idleTimeout: '30m', absoluteTimeout: '1h', touchInterval: 0 });
      const { token } = await sessions.create({ userId: 'u' });
      for (let i = 0; i < 5; i += 1) {
        clock.advance(11 * 60_000);
        const s = await sessions.validate(token);
        expect(s.idleExpiresAt.getTime()).toBeLessThanOrEqual(s.absoluteExpiresAt.getTime());
      }
      clock.advance(6 * 60_000);
      const err = await expectCode(sessions.validate(token), 'session_expired');
      expect(err.details.expiry).toBe('absolute');
    });

    it('applies the most restrictive role policy', async () => {
      const sessions = manager({ roles: { admin: { idleTimeout: '10m', absoluteTimeout: '1h' }, support: { idleTimeout: '5m', absoluteTimeout: '2h' } } });
      const { session } = await sessions.create({ userId: 'u', roles: ['admin', 'support', 'user'] });
      expect(session.idleTimeout).toBe(5 * 60_000);
      expect(session.absoluteTimeout).toBe(60 * 60_000);
      expect(session.policy).toBe('support,admin');
      const plain = await sessions.create({ userId: 'v', roles: ['user'] });
      expect(plain.session.policy).toBeNull();
      expect(plain.session.idleTimeout).toBe(30 * 60_000);
    });

    it('writes sliding expiry at most once per touch interval', async () => {
      const counted = countingStore(store);
      const sessions = createSessionManager({ store: counted, now: clock.now, touchInterval: '60s', secret: 'conformance-suite-secret-0123456789abcdef' });
      const { token } = await sessions.create({ userId: 'u' });
      for (let i = 0; i < 50; i += 1) {
        clock.advance(1000);
        await sessions.validate(token);
      }
      expect(counted.calls.touch ?? 0).toBe(0);
      clock.advance(11_000);
      const s = await sessions.validate(token);
      expect(counted.calls.touch).toBe(1);
      expect(s.lastSeenAt.getTime()).toBe(clock.now());
      const stored = await store.get(s.id);
      expect(stored?.idleExpiresAt).toBe(clock.now() + 30 * 60_000);
      expect(counted.calls.get).toBe(51);
    });

    it('never idles out a session used more often than its idle timeout, even when touchInterval is longer (global policy)', async () => {
      // idleTimeout 3s with the default touchInterval of 60s: the sliding write must still land in time.
      const sessions = manager({ idleTimeout: '3s' });
      const { token } = await sessions.create({ userId: 'u' });
      for (let i = 0; i < 30; i += 1) {
        clock.advance(2000);
        const seen = await sessions.validate(token);
        expect(seen.idleExpiresAt.getTime()).toBeGreaterThan(clock.now());
      }
      const stored = await sessions.validate(token);
      expect(stored.idleExpiresAt.getTime() - clock.now()).toBeGreaterThan(2000);
      clock.advance(3000);
      const err = await expectCode(sessions.validate(token), 'session_expired');
      expect(err.details.expiry).toBe('idle');
    });

    it('never idles out a session used more often than the idle timeout of its role policy', async () => {
      const sessions = manager({ touchInterval: '60s', roles: { admin: { idleTimeout: '30s' } } });
      const { token, session } = await sessions.create({ userId: 'u', roles: ['admin'] });
      expect(session.idleTimeout).toBe(30_000);
      for (let i = 0; i < 30; i += 1) {
        clock.advance(20_000);
        await sessions.validate(token);
      }
      clock.advance(30_000);
      const err = await expectCode(sessions.validate(token), 'session_expired');
      expect(err.details.expiry).toBe('idle');
    });

    it('renews a token: the new one works, the old one only within the grace window', async () => {
      const sessions = manager({ renewGrace: '10s' });
      const first = await sessions.create({ userId: 'u' });
      clock.advance(1000);
      const renewed = await sessions.renew(first.token);
      expect(renewed.token).not.toBe(first.token);
      expect(renewed.session.id).toBe(first.session.id);
      await sessions.validate(renewed.token);
      await sessions.validate(first.token);
      const again = await sessions.renew(first.token);
      expect(again.token).toBe(renewed.token);
      clock.advance(10_000);
      await expectCode(sessions.validate(first.token), 'token_invalid');
      await sessions.validate(renewed.token);
      expect(trail.events.filter((e) => e.type === 'session.renewed')).toHaveLength(1);
    });

    it('gives concurrent renewals of one token the same successor', async () => {
      const sessions = manager();
      const { token } = await sessions.create({ userId: 'u' });
      const results = await Promise.all(Array.from({ length: 10 }, () => sessions.renew(token)));
      expect(new Set(results.map((r) => r.token)).size).toBe(1);
    });

    it('revokes a session, and says so for as long as the record is kept', async () => {
      const sessions = manager();
      const { session, token } = await sessions.create({ userId: 'u' });
      expect(await sessions.revoke(session.id, { reason: 'logout' })).toBe(true);
      expect(await sessions.revoke(session.id)).toBe(false);
      const err = await expectCode(sessions.validate(token), 'session_revoked');
      expect(err.details.reason).toBe('logout');
      clock.advance(7 * 3_600_000);
      await sessions.sweepExpired();
      await expectCode(sessions.validate(token), 'session_revoked');
      await expectCode(sessions.renew(token), 'session_revoked');
    });

    it('revokes all of a user\'s sessions except one, and no other user\'s', async () => {
      const sessions = manager();
      const a = await sessions.create({ userId: 'alice' });
      const b = await sessions.create({ userId: 'alice' });
      const c = await sessions.create({ userId: 'alice' });
      const other = await sessions.create({ userId: 'bob' });
      expect(await sessions.revokeAllForUser('alice', { except: b.session.id })).toBe(2);
      await expectCode(sessions.validate(a.token), 'session_revoked');
      await expectCode(sessions.validate(c.token), 'session_revoked');
      await sessions.validate(b.token);
      await sessions.validate(other.token);
      expect(await sessions.revokeAllForUser('alice')).toBe(1);
      const revokedEvents = trail.events.filter((e) => e.type === 'session.revoked');
      expect(revokedEvents.map((e) => e.sessionId).sort()).toEqual([a.session.id, b.session.id, c.session.id].sort());
    });

    it('lists only the live sessions of that user, oldest first', async () => {
      const sessions = manager({ idleTimeout: '10m', touchInterval: 0 });
      const a = await sessions.create({ userId: 'alice' });
      clock.advance(1000);
      const b = await sessions.create({ userId: 'alice' });
      clock.advance(1000);
      const c = await sessions.create({ userId: 'alice' });
      await sessions.create({ userId: 'bob' });
      await sessions.revoke(b.session.id);
      expect((await sessions.listForUser('alice')).map((s) => s.id)).toEqual([a.session.id, c.session.id]);
      clock.advance(9 * 60_000);
      await sessions.validate(c.token);
      clock.advance(2 * 60_000);
      expect((await sessions.listForUser('alice')).map((s) => s.id)).toEqual([c.session.id]);
      expect(await sessions.listForUser('nobody')).toEqual([]);
    });

    it('keeps users, roles, labels and data keys named like Object.prototype\'s members apart from the prototype', async () => {
      const sessions = manager();
      const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
      const issued: { token: string; session: { id: string } }[] = [];
      for (const name of names) {
        // JSON.parse makes `__proto__` an own key, as a parsed request body would.
        const data = JSON.parse(`{${JSON.stringify(name)}:${JSON.stringify(name)}}`) as Record<string, unknown>;
        issued.push(await sessions.create({ userId: name, roles: [name], device: { userAgent: `${name}/1 x`, label: name }, data }));
      }
      for (const [i, name] of names.entries()) {
        const { token, session } = issued[i] as (typeof issued)[number];
        const seen = await sessions.validate(token);
        expect([seen.userId, seen.roles, seen.device.label, Object.keys(seen.data), Object.getPrototypeOf(seen.data)]).toEqual([name, [name], name, [name], Object.prototype]);
        expect((await sessions.listForUser(name)).map((s) => s.id)).toEqual([session.id]);
      }
      expect(await sessions.revokeAllForUser('__proto__')).toBe(1);
      await expectCode(sessions.validate((issued[0] as (typeof issued)[number]).token), 'session_revoked');
      await sessions.validate((issued[1] as (typeof issued)[number]).token);
    });

    it('refuses NUL and unpaired surrogates in any text with invalid_request, before the store', async () => {
      const sessions = manager();
      const { session } = await sessions.create({ userId: 'text-owner' });
      for (const bad of ['a\u0000b', '\ud800', 'x\udc00y', '\udbff']) {
        for (const input of [{ userId: bad }, { userId: 'u', roles: [bad] }, { userId: 'u', device: { userAgent: bad } }, { userId: 'u', device: { label: bad } },
          { userId: 'u', data: { note: bad } }, { userId: 'u', data: { [bad]: 1 } }, { userId: 'u', data: { list: [{ deep: bad }] } }, { userId: 'u', authMethods: [bad] }]) {
          await expectCode(sessions.create(input), 'invalid_request');
        }
        await expectCode(sessions.revoke(bad), 'invalid_request');
        await expectCode(sessions.listForUser(bad), 'invalid_request');
        await expectCode(sessions.revokeAllForUser(bad), 'invalid_request');
        await expectCode(sessions.revokeAllForUser('text-owner', { except: bad }), 'invalid_request');
        await expectCode(sessions.update(session.id, { data: { v: bad } }), 'invalid_request');
        expect(await sessions.get(bad)).toBeNull();
      }
      // Paired surrogates (an emoji) are ordinary text.
      expect((await sessions.create({ userId: 'emoji-\ud83d\ude00', data: { e: '\ud83d\ude00' } })).session.userId).toBe('emoji-\ud83d\ude00');
      await expectCode(sessions.create({ userId: 'u', device: { ip: 'not an address' } }), 'invalid_request');
      expect((await sessions.create({ userId: 'u', device: { ip: '2001:db8::1' } })).session.device.ip).toBe('2001:db8::1');
    });

    it('evicts the oldest session past maxSessionsPerUser', async () => {
      const sessions = manager({ maxSessionsPerUser: 2 });
      const a = await sessions.create({ userId: 'u' });
      clock.advance(1);
      const b = await sessions.create({ userId: 'u' });
      clock.advance(1);
      const c = await sessions.create({ userId: 'u' });
      const err = await expectCode(sessions.validate(a.token), 'session_revoked');
      expect(err.details.reason).toBe('evicted');
      await sessions.validate(b.token);
      await sessions.validate(c.token);
      expect(trail.events.some((e) => e.type === 'session.revoked' && e.sessionId === a.session.id && e.reason === 'evicted')).toBe(true);
    });

    it('refuses a login past maxSessionsPerUser with the reject policy', async () => {
      const sessions = manager({ maxSessionsPerUser: { max: 2, policy: 'reject' } });
      await sessions.create({ userId: 'u' });
      await sessions.create({ userId: 'u' });
      await expectCode(sessions.create({ userId: 'u' }), 'session_limit_reached');
      expect(await sessions.listForUser('u')).toHaveLength(2);
      await sessions.create({ userId: 'other' });
    });

    it('keeps exactly the limit when 200 logins of one user race', async () => {
      const sessions = manager({ maxSessionsPerUser: 5 });
      const results = await Promise.allSettled(Array.from({ length: 200 }, () => sessions.create({ userId: 'racer' })));
      if (!store.capabilities.exactUserLimit) {
        // A store without the capability may overshoot, or refuse some logins with a coded
        // SessionError, during a race; the next login brings the user back within the limit.
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(SessionError);
        await sessions.create({ userId: 'racer' });
        expect((await sessions.listForUser('racer')).length).toBeLessThanOrEqual(5);
        return;
      }
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      expect(await sessions.listForUser('racer')).toHaveLength(5);
    });

    it('lets exactly one of many concurrent updates with the same expectedVersion win', async () => {
      const sessions = manager();
      const { session } = await sessions.create({ userId: 'u', data: { n: 0 } });
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
        sessions.update(session.id, { data: { n: i + 1 } }, { expectedVersion: session.version })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect((r.reason as SessionError).code).toBe('version_conflict');
      }
      const after = await sessions.get(session.id);
      expect(after?.version).toBe(session.version + 1);
      expect(after?.data).toEqual((won[0] as PromiseFulfilledResult<{ data: unknown }>).value.data);
    });

    it('applies updates without expectedVersion one after another', async () => {
      const sessions = manager();
      const { session } = await sessions.create({ userId: 'u' });
      await Promise.all(Array.from({ length: 5 }, (_, i) => sessions.update(session.id, { data: { last: i } })));
      const after = await sessions.get(session.id);
      expect(after?.version).toBe(session.version + 5);
    });

    it('replaces the session a login presents (no fixation) and ignores a foreign token', async () => {
      const sessions = manager();
      const old = await sessions.create({ userId: 'u' });
      const fresh = await sessions.create({ userId: 'u', replaces: old.token });
      const err = await expectCode(sessions.validate(old.token), 'session_revoked');
      expect(err.details.reason).toBe('replaced');
      const planted = `sk_${old.session.id}.${'Z'.repeat(43)}`;
      const next = await sessions.create({ userId: 'u', replaces: planted });
      await sessions.validate(fresh.token);
      await sessions.validate(next.token);
      await sessions.create({ userId: 'u', replaces: 'not a token at all' });
    });

    it('sweeps only expired sessions', async () => {
      const sessions = manager({ idleTimeout: '10m', absoluteTimeout: '1h', touchInterval: 0 });
      const idle = await sessions.create({ userId: 'u' });
      const active = await sessions.create({ userId: 'u' });
      const revoked = await sessions.create({ userId: 'u' });
      await sessions.revoke(revoked.session.id);
      clock.advance(9 * 60_000);
      await sessions.validate(active.token);
      clock.advance(2 * 60_000);
      expect(await sessions.sweepExpired({ batchSize: 1 })).toBe(1);
      expect(await store.get(idle.session.id)).toBeNull();
      expect(await store.get(active.session.id)).not.toBeNull();
      expect(await store.get(revoked.session.id)).not.toBeNull();
      expect(trail.events.filter((e) => e.type === 'session.expired').map((e) => e.sessionId)).toEqual([idle.session.id]);
      clock.advance(2 * 3_600_000);
      expect(await sessions.sweepExpired({ batchSize: 1 })).toBe(2);
      expect(await store.get(revoked.session.id)).toBeNull();
    });

    it('rejects malformed tokens without a store lookup', async () => {
      const counted = countingStore(store);
      const sessions = createSessionManager({ store: counted, now: clock.now, secret: 'conformance-suite-secret-0123456789abcdef' });
      const bad: unknown[] = ['', 'sk_', 'sk_abc.def', `xx_${'A'.repeat(43)}.${'A'.repeat(43)}`, `sk_${'A'.repeat(42)}.${'A'.repeat(43)}`,
        `sk_${'A'.repeat(43)}.${'A'.repeat(42)}=`, `sk_${'+'.repeat(43)}.${'A'.repeat(43)}`, 'x'.repeat(10_240), 42, {}, ['sk']];
      for (const token of bad) await expectCode(sessions.validate(token), 'token_malformed');
      await expectCode(sessions.validate(null), 'token_malformed');
      await expectCode(sessions.validate(undefined), 'token_malformed');
      expect(counted.calls.get ?? 0).toBe(0);
    });

    it('audits every rejection with a fingerprint and never the token', async () => {
      const sessions = manager();
      const { token } = await sessions.create({ userId: 'u' });
      await sessions.revokeAllForUser('u');
      await expectCode(sessions.validate(token, { ip: '198.51.100.7' }), 'session_revoked');
      const rejected = trail.events.filter((e: AuditEvent) => e.type === 'session.rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({ reason: 'revoked', ip: '198.51.100.7' });
      expect(rejected[0]?.tokenFingerprint).toMatch(/^[0-9a-f]{12}$/);
      expect(JSON.stringify(trail.events)).not.toContain(token.split('.')[1]);
    });

    it('persists audit events with the change and keeps the hash chain', async () => {
      if (!store.capabilities.persistentAudit) return;
      const sessions = manager();
      const { session, token } = await sessions.create({ userId: 'audited' });
      await sessions.renew(token);
      await sessions.revoke(session.id);
      const events = await store.queryAudit({ sessionId: session.id, limit: 10 });
      expect(events.map((e) => e.type)).toEqual(['session.revoked', 'session.renewed', 'session.created']);
      const all = await store.queryAudit({ after: 0, limit: 1000 });
      for (let i = 1; i < all.length; i += 1) expect(all[i]?.prevHash).toBe(all[i - 1]?.hash);
    });

    it('keeps named records and writes ifAbsent only once', async () => {
      expect(await store.putRecord('things', 'a', { v: 1 }, { ifAbsent: true })).toBe(true);
      expect(await store.putRecord('things', 'a', { v: 2 }, { ifAbsent: true })).toBe(false);
      expect(await store.getRecord('things', 'a')).toEqual({ v: 1 });
      await store.putRecord('things', 'b', { v: 3 });
      expect((await store.listRecords<{ v: number }>('things')).map((r) => r.v).sort()).toEqual([1, 3]);
      expect(await store.deleteRecord('things', 'a')).toBe(true);
      expect(await store.getRecord('things', 'a')).toBeNull();
    });

    it('touches only forward and only a live record; replace refuses a stale version or a revoked record', async () => {
      const sessions = manager();
      const { session } = await sessions.create({ userId: 'u', data: { n: 0 } });
      const t = clock.now();
      await store.touch(session.id, t + 5000, t + 5000 + 30 * 60_000);
      // A slower request's touch arriving late must not move the expiry back.
      await store.touch(session.id, t + 1000, t + 1000 + 30 * 60_000);
      const touched = await store.get(session.id) as NonNullable<Awaited<ReturnType<SessionStore['get']>>>;
      expect([touched.lastSeenAt, touched.idleExpiresAt, touched.version]).toEqual([t + 5000, t + 5000 + 30 * 60_000, session.version]);
      expect(await store.replace({ ...touched, version: touched.version + 1, data: { n: 1 } }, touched.version - 1, [])).toBe(false);
      expect(await store.replace({ ...touched, version: touched.version + 1, data: { n: 2 } }, touched.version, [])).toBe(true);
      expect((await store.get(session.id))?.data).toEqual({ n: 2 });
      await sessions.revoke(session.id);
      const revoked = await store.get(session.id) as NonNullable<Awaited<ReturnType<SessionStore['get']>>>;
      expect(await store.replace({ ...revoked, revokedAt: null, revokeReason: null, version: revoked.version + 1 }, revoked.version, [])).toBe(false);
      await store.touch(session.id, t + 9000, t + 9000 + 30 * 60_000);
      const after = await store.get(session.id);
      expect([after?.lastSeenAt, after?.revokeReason]).toEqual([t + 5000, 'logout']);
    });

    it('hands out copies or frozen records: changing a returned record changes nothing in the store', async () => {
      const sessions = manager();
      const { session } = await sessions.create({ userId: 'u', roles: ['user'], data: { list: [1] } });
      // A store may return a private copy (the change lands there) or its own frozen record (the
      // change throws a TypeError in strict mode); either way the store must not change.
      const tryChange = (target: object, change: () => unknown): void => {
        try {
          change();
        } catch (err) {
          if (!(err instanceof TypeError) || !Object.isFrozen(target)) throw err;
        }
      };
      const got = await store.get(session.id) as NonNullable<Awaited<ReturnType<SessionStore['get']>>>;
      tryChange(got.roles, () => got.roles.push('admin'));
      tryChange(got.data.list as number[], () => (got.data.list as number[]).push(2));
      tryChange(got, () => { got.revokedAt = 1; });
      const listed = await store.listForUser('u', clock.now());
      tryChange((listed[0] as typeof got).roles, () => (listed[0] as typeof got).roles.push('root'));
      const again = await store.get(session.id);
      expect([again?.roles, again?.data, again?.revokedAt]).toEqual([['user'], { list: [1] }, null]);
      const revokedBefore = await store.revoke(session.id, { reason: 'admin', at: clock.now(), events: [] });
      expect(revokedBefore?.revokedAt).toBeNull();
      expect(await store.revoke(session.id, { reason: 'admin', at: clock.now(), events: [] })).toBeNull();
      expect(await store.revoke('no-such-session', { reason: 'admin', at: clock.now(), events: [] })).toBeNull();
    });

    it('pages the audit trail newest first, with before and after, and filters by user, type and time', async () => {
      if (!store.capabilities.persistentAudit) return;
      const t0 = clock.now();
      const base = { sessionId: null, ip: null, userAgent: null, reason: null, actor: null, requestId: null };
      await store.appendAudit(Array.from({ length: 6 }, (_, i): AuditEvent => ({
        ...base, type: i % 2 === 0 ? 'apikey.rejected' : 'session.rejected', userId: i < 3 ? 'pager-a' : 'pager-b', at: t0 + i * 1000,
      })));
      const at = (events: { at: number }[]): number[] => events.map((e) => (e.at - t0) / 1000);
      const all = await store.queryAudit({ limit: 100 });
      expect(at(all)).toEqual([5, 4, 3, 2, 1, 0]);
      const seqs = all.map((e) => e.seq);
      expect((await store.queryAudit({ limit: 2 })).map((e) => e.seq)).toEqual(seqs.slice(0, 2));
      expect((await store.queryAudit({ limit: 2, before: seqs[1] })).map((e) => e.seq)).toEqual(seqs.slice(2, 4));
      expect((await store.queryAudit({ limit: 2, after: seqs[5] })).map((e) => e.seq)).toEqual([seqs[4], seqs[3]]);
      expect(at(await store.queryAudit({ userId: 'pager-b' }))).toEqual([5, 4, 3]);
      expect(at(await store.queryAudit({ type: 'apikey.rejected' }))).toEqual([4, 2, 0]);
      expect(at(await store.queryAudit({ since: t0 + 1000, until: t0 + 3000 }))).toEqual([2, 1]);
      expect(at(await store.queryAudit({ userId: 'pager-a', type: 'session.rejected' }))).toEqual([1]);
    });

    it('fails closed with store_unavailable when the store cannot answer', async () => {
      const sessions = manager();
      const { token } = await sessions.create({ userId: 'u' });
      if (suiteOptions.breakStore) await suiteOptions.breakStore(store);
      else await store.close();
      await expectCode(sessions.validate(token), 'store_unavailable');
      await expectCode(sessions.create({ userId: 'u' }), 'store_unavailable');
    });

    // JWT sessions (issue 3): refresh rotation under concurrency, reuse detection, revocation of
    // access tokens across managers, and a key ring shared through the store.
    const jwtManager = (opts: Partial<SessionManagerOptions> = {}) => manager({ jwt: { issuer: 'https://conformance.test', audience: 'conformance' }, ...opts });

    it('gives 50 concurrent refreshes of one refresh token the same new pair, and one chain', async () => {
      const sessions = jwtManager();
      const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => sessions.refresh(first.refreshToken)));
      const pairs = results.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
      expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1);
      expect(new Set(pairs.map((p) => p.accessToken)).size).toBe(1);
      expect((await store.get(first.session.id))?.generation).toBe(1);
      expect(trail.events.filter((e) => e.type === 'session.refreshed')).toHaveLength(1);
      const next = await sessions.refresh((pairs[0] as { refreshToken: string }).refreshToken);
      await sessions.validate(next.accessToken);
      expect((await store.get(first.session.id))?.generation).toBe(2);
    });

    it('revokes the whole session when a used refresh token comes back after the grace window', async () => {
      const sessions = jwtManager({ refreshGrace: '10s' });
      const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
      const again = await sessions.refresh(first.refreshToken);
      expect((await sessions.refresh(first.refreshToken)).refreshToken).toBe(again.refreshToken);
      clock.advance(10_000);
      await expectCode(sessions.refresh(first.refreshToken), 'refresh_reused');
      await expectCode(sessions.refresh(again.refreshToken), 'session_revoked');
      await expectCode(sessions.validate(again.accessToken), 'session_revoked');
      expect((await store.get(first.session.id))?.revokeReason).toBe('refresh_reuse');
      expect(trail.events.filter((e) => e.type === 'session.refresh_reuse_detected').map((e) => e.sessionId)).toEqual([first.session.id]);
      if (store.capabilities.persistentAudit) {
        expect(await store.queryAudit({ sessionId: first.session.id, type: 'session.refresh_reuse_detected' })).toHaveLength(1);
      }
    });

    it('makes access tokens fail after logout, logout-all and admin revoke, in this and another manager', async () => {
      const a = jwtManager();
      const b = jwtManager();
      const one = await a.create({ userId: 'alice', tokenType: 'jwt' });
      const two = await a.create({ userId: 'alice', tokenType: 'jwt' });
      const three = await a.create({ userId: 'bob', tokenType: 'jwt' });
      for (const t of [one, two, three]) await b.validate(t.accessToken);
      await a.revoke(one.session.id, { reason: 'logout' });
      await a.revokeAllForUser('alice');
      await a.revoke(three.session.id, { reason: 'admin', actor: 'admin' });
      // This manager knows at once; the other within the staleness bound (1 s) whatever its watch does.
      for (const t of [one, two, three]) await expectCode(a.validate(t.accessToken), 'session_revoked');
      clock.advance(1000);
      for (const t of [one, two, three]) await expectCode(b.validate(t.accessToken), 'session_revoked');
      const always = jwtManager({ checkRevocation: 'always' });
      await expectCode(always.validate(two.accessToken), 'session_revoked');
    });

    it('shares one key ring between managers on the store, across a rotation', async () => {
      // No propagation window: the new key signs at once (the window itself is tested in test/jwt).
      const jwt = { issuer: 'https://conformance.test', audience: 'conformance', keyPropagation: 0 };
      const a = jwtManager({ jwt });
      const b = jwtManager({ jwt });
      const before = await a.create({ userId: 'u', tokenType: 'jwt' });
      await b.validate(before.accessToken);
      const { kid } = await b.keys.rotate();
      // The other manager learns of the rotation through the store's change feed, which is
      // asynchronous on networked stores: wait (bounded) until its signer is the new key.
      for (let waited = 0; (await a.keys.jwks()).keys[0]?.kid !== kid; waited += 10) {
        if (waited > 5000) throw new Error('the rotation did not reach the second manager within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const after = await a.refresh(before.refreshToken);
      await b.validate(after.accessToken);
      await a.validate(before.accessToken);
      expect(JSON.parse(Buffer.from(after.accessToken.split('.')[0] as string, 'base64url').toString()).kid).toBe(kid);
      expect((await a.keys.jwks()).keys.map((k) => k.kid)).toContain(kid);
      const listed = await a.keys.list();
      expect(listed.map((k) => k.state).sort()).toEqual(['active', 'verify-only']);
      expect(JSON.stringify(listed)).not.toMatch(/"d"|privateKey/);
    });
  });
}
