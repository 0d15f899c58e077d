import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';
import { fakeClock } from '../../src/testing/index.js';

const secret = 'memory-store-test-secret-0123456789abcdef';

describe('memory store', () => {
  it('frees everything a session used once it expired and was swept', async () => {
    const store = memoryStore();
    const clock = fakeClock();
    const sessions = createSessionManager({ store, secret, now: clock.now, idleTimeout: '10m', absoluteTimeout: '1h', touchInterval: 0, maxSessionsPerUser: 8 });
    const tokens: string[] = [];
    for (let i = 0; i < 600; i += 1) tokens.push((await sessions.create({ userId: `user-${i % 50}`, data: { i } })).token);
    // Touch, renew and revoke some, so the expiry index holds superseded entries too.
    for (let round = 0; round < 3; round += 1) {
      clock.advance(60_000);
      for (const token of tokens.slice(0, 100)) await sessions.validate(token).catch(() => {});
    }
    for (const token of tokens.slice(100, 150)) await sessions.renew(token).catch(() => {});
    await sessions.revokeAllForUser('user-7');
    expect(store.stats().sessions).toBe(600);
    expect(store.stats().expiryEntries).toBeGreaterThan(600);

    clock.advance(2 * 3_600_000);
    expect(await sessions.sweepExpired({ batchSize: 64 })).toBe(600);
    expect(store.stats()).toMatchObject({ sessions: 0, users: 0, expiryEntries: 0 });
  });

  it('sweeps only what is due, earliest first, whatever the order of creation', async () => {
    const store = memoryStore();
    const clock = fakeClock();
    const short = createSessionManager({ store, secret, now: clock.now, idleTimeout: '5m' });
    const long = createSessionManager({ store, secret, now: clock.now, idleTimeout: '50m' });
    const late = await long.create({ userId: 'a' });
    const early = await short.create({ userId: 'b' });
    clock.advance(6 * 60_000);
    expect((await store.sweepExpired(clock.now(), 10)).map((s) => s.id)).toEqual([early.session.id]);
    expect(store.stats()).toMatchObject({ sessions: 1, users: 1, expiryEntries: 1 });
    clock.advance(60 * 60_000);
    expect((await store.sweepExpired(clock.now(), 10)).map((s) => s.id)).toEqual([late.session.id]);
  });

  it('keeps a touched session when its superseded expiry entry comes due', async () => {
    const store = memoryStore();
    const clock = fakeClock();
    const sessions = createSessionManager({ store, secret, now: clock.now, idleTimeout: '10m', touchInterval: 0 });
    const { token, session } = await sessions.create({ userId: 'u' });
    clock.advance(9 * 60_000);
    await sessions.validate(token);
    clock.advance(2 * 60_000);
    expect(await store.sweepExpired(clock.now(), 10)).toEqual([]);
    expect(await store.get(session.id)).not.toBeNull();
    expect(store.stats().expiryEntries).toBe(1);
  });

  it('bounds the expiry index of a session touched very often', async () => {
    const store = memoryStore();
    const clock = fakeClock();
    const sessions = createSessionManager({ store, secret, now: clock.now, idleTimeout: '8h', touchInterval: 0 });
    const { token } = await sessions.create({ userId: 'u' });
    for (let i = 0; i < 5000; i += 1) {
      clock.advance(1000);
      await sessions.validate(token);
    }
    expect(store.stats().expiryEntries).toBeLessThanOrEqual(2 * 1 + 1024 + 1);
  });

  it('hands out its frozen records, and Sessions that callers may change without touching the store', async () => {
    const store = memoryStore();
    const clock = fakeClock();
    const sessions = createSessionManager({ store, secret, now: clock.now, touchInterval: '60s' });
    const { session, token } = await sessions.create({ userId: 'u', roles: ['user'], data: { cart: [1] }, device: { userAgent: 'ua', ip: '203.0.113.7' } });
    const record = await store.get(session.id);
    expect(Object.isFrozen(record) && Object.isFrozen(record?.roles) && Object.isFrozen(record?.data.cart)).toBe(true);
    const first = await sessions.validate(token);
    first.roles.push('admin');
    (first.data.cart as number[]).push(2);
    first.device.ip = '198.51.100.1';
    first.createdAt.setTime(0);
    const second = await sessions.validate(token);
    expect([second.roles, second.data, second.device.ip, second.createdAt.getTime()]).toEqual([['user'], { cart: [1] }, '203.0.113.7', session.createdAt.getTime()]);
    // A touch stores a new record; the one handed out before stays as it was.
    clock.advance(61_000);
    const touched = await sessions.validate(token);
    expect(touched.lastSeenAt.getTime()).toBe(clock.now());
    expect((await store.get(session.id))?.lastSeenAt).toBe(clock.now());
    expect(record?.lastSeenAt).toBe(session.lastSeenAt.getTime());
  });

  it('drops a record kind once its last record is deleted', async () => {
    const store = memoryStore();
    await store.putRecord('k', 'a', 1);
    await store.deleteRecord('k', 'a');
    expect(store.stats().recordKinds).toBe(0);
  });
});
