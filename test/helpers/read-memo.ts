/**
 * The shared check of the stores' read memo option (`readCache`, src/stores/read-memo.ts): with the
 * memo off, or smaller than the hot set, every validation still reads the current record, and a
 * change is seen at once.
 */
import { expect } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import type { SessionStore } from '../../src/stores/types.js';
import { fakeClock } from '../../src/testing/index.js';

/** `open(readCache)` returns a store on empty (or not yet used) storage; it is closed here. */
export async function expectSameReadsWithoutTheMemo(open: (readCache: number) => SessionStore | Promise<SessionStore>, secret: string): Promise<void> {
  const clock = fakeClock(1_800_000_000_000);
  for (const readCache of [0, 2]) {
    const store = await open(readCache);
    try {
      const sessions = createSessionManager({ store, secret, now: clock.now });
      const issued = await Promise.all([1, 2, 3, 4, 5].map((i) => sessions.create({ userId: `rc-${readCache}-${i}`, data: { i } })));
      for (let round = 0; round < 10; round += 1) {
        for (const [i, { token }] of issued.entries()) expect((await sessions.validate(token)).data).toEqual({ i: i + 1 });
      }
      await sessions.update(issued[0]!.session.id, { data: { i: 100 } });
      expect((await sessions.validate(issued[0]!.token)).data).toEqual({ i: 100 });
    } finally {
      await store.close();
    }
  }
}

/**
 * Two store objects on the same storage (as two processes would have): what `b`'s manager writes
 * (an update, a touch, a revocation) is what `a` reads next, memo or not, and a record `a` hands
 * out from its memo is frozen, so no reader can change another's copy.
 */
export async function expectMemoSeesOtherWriters(a: SessionStore, b: SessionStore, secret: string): Promise<void> {
  const clock = fakeClock(1_800_000_000_000);
  const sessionsA = createSessionManager({ store: a, secret, now: clock.now, touchInterval: '1m' });
  const sessionsB = createSessionManager({ store: b, secret, now: clock.now, touchInterval: '1m' });
  const { session, token } = await sessionsA.create({ userId: 'memo-user', roles: ['user'], data: { plan: 'free' } });
  // Read it often enough that the memo (one decode in eight remembered) holds it.
  for (let i = 0; i < 16; i += 1) await a.get(session.id);
  const first = await a.get(session.id);
  expect(first).toEqual(await b.get(session.id));
  expect(Object.isFrozen(first?.data)).toBe(true);
  expect(() => { (first?.roles as string[]).push('admin'); }).toThrow(TypeError);
  expect((await a.get(session.id))?.roles).toEqual(['user']);

  await sessionsB.update(session.id, { data: { plan: 'pro' } });
  expect((await a.get(session.id))?.data).toEqual({ plan: 'pro' });
  expect((await sessionsA.validate(token)).data).toEqual({ plan: 'pro' });

  clock.advance(120_000);
  await sessionsB.validate(token); // a touch: only the times change
  expect((await a.get(session.id))?.lastSeenAt).toBe(clock.now());

  await sessionsB.revoke(session.id);
  expect((await a.get(session.id))?.revokedAt).toBe(clock.now());
  await expect(sessionsA.validate(token)).rejects.toMatchObject({ code: 'session_revoked' });
}
