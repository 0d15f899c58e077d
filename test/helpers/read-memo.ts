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
