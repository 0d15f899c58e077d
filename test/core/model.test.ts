/**
 * Model-based property test of the session core: random sequences of operations run against the
 * real manager on a real store and against a small model of what must happen, on every store
 * kept in this process (memory and SQLite). The model is written from the design, not the code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { createSessionManager } from '../../src/core/manager.js';
import type { Session } from '../../src/core/types.js';
import { memoryStore } from '../../src/stores/memory.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import type { SessionStore } from '../../src/stores/types.js';
import { fakeClock } from '../../src/testing/index.js';

const MIN = 60_000;
const IDLE = 10 * MIN;
const ABSOLUTE = 60 * MIN;
const TOUCH = MIN;
const GRACE = 10_000;
const LIMIT = 3;
const USERS = ['ann', 'bob'];

interface ModelSession {
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  revokeReason: string | null;
  version: number;
  data: Record<string, unknown>;
  token: string;
  previous: { token: string; until: number } | null;
}

type Op =
  | { op: 'create'; user: number }
  | { op: 'validate'; pick: number; forged: boolean }
  | { op: 'renew'; pick: number }
  | { op: 'revoke'; pick: number }
  | { op: 'revokeAll'; user: number; except: number | null }
  | { op: 'update'; pick: number; n: number; stale: boolean }
  | { op: 'advance'; ms: number }
  | { op: 'sweep' }
  | { op: 'list'; user: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('create' as const), user: fc.nat(USERS.length - 1) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('validate' as const), pick: fc.nat(), forged: fc.boolean() }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('renew' as const), pick: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('revoke' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('revokeAll' as const), user: fc.nat(USERS.length - 1), except: fc.option(fc.nat(), { nil: null }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('update' as const), pick: fc.nat(), n: fc.nat(100), stale: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1000, 9000, 30_000, 61_000, 5 * MIN, 11 * MIN, 50 * MIN) }), weight: 4 },
  { arbitrary: fc.constant({ op: 'sweep' as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('list' as const), user: fc.nat(USERS.length - 1) }), weight: 1 },
);

const live = (s: ModelSession, t: number): boolean => s.revokedAt === null && t < s.idleExpiresAt && t < s.absoluteExpiresAt;
const retention = (s: ModelSession): number => (s.revokedAt !== null ? s.absoluteExpiresAt : Math.min(s.idleExpiresAt, s.absoluteExpiresAt));
const byAge = (a: ModelSession, b: ModelSession): number => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
const idOf = (token: string): string => token.slice(3, 46);

/** What the model says a presented token leads to: the session, or the error code. */
function authenticate(sessions: Map<string, ModelSession>, token: string, t: number): { s: ModelSession; previous: boolean } | string {
  const s = sessions.get(idOf(token));
  if (!s) return 'session_not_found';
  const previous = token !== s.token;
  if (previous && !(s.previous && s.previous.token === token && t < s.previous.until)) return 'token_invalid';
  if (s.revokedAt !== null) return 'session_revoked';
  if (t >= s.absoluteExpiresAt || t >= s.idleExpiresAt) return 'session_expired';
  return { s, previous };
}

/** Resolves with the value, or with the SessionError code it rejected with. */
async function outcome<T>(p: Promise<T>): Promise<T | string> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof SessionError) return err.code;
    throw err;
  }
}

function expectSession(real: Session | string, s: ModelSession): void {
  expect(typeof real, `expected session ${s.id}, got ${String(real)}`).toBe('object');
  const r = real as Session;
  expect({ id: r.id, userId: r.userId, lastSeenAt: r.lastSeenAt.getTime(), idleExpiresAt: r.idleExpiresAt.getTime(), absoluteExpiresAt: r.absoluteExpiresAt.getTime(), version: r.version })
    .toEqual({ id: s.id, userId: s.userId, lastSeenAt: s.lastSeenAt, idleExpiresAt: s.idleExpiresAt, absoluteExpiresAt: s.absoluteExpiresAt, version: s.version });
}

async function run(makeStore: () => SessionStore, ops: Op[]): Promise<void> {
  const store = makeStore();
  const clock = fakeClock();
  const manager = createSessionManager({ store, now: clock.now, secret: 'model-test-secret-0123456789abcdef-0123', idleTimeout: IDLE, absoluteTimeout: ABSOLUTE,
    touchInterval: TOUCH, renewGrace: GRACE, maxSessionsPerUser: LIMIT });
  const sessions = new Map<string, ModelSession>();
  const ids: string[] = [];
  const tokens: string[] = [];
  const pick = <T>(list: T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined);
  try {
    for (const op of ops) {
      const t = clock.now();
      switch (op.op) {
        case 'create': {
          const userId = USERS[op.user] as string;
          const mine = [...sessions.values()].filter((s) => s.userId === userId && live(s, t)).sort(byAge);
          for (const s of mine.slice(0, Math.max(0, mine.length + 1 - LIMIT))) Object.assign(s, { revokedAt: t, revokeReason: 'evicted', version: s.version + 1 });
          const { session, token } = await manager.create({ userId });
          const s: ModelSession = { id: session.id, userId, createdAt: t, lastSeenAt: t, idleExpiresAt: t + IDLE, absoluteExpiresAt: t + ABSOLUTE,
            revokedAt: null, revokeReason: null, version: 1, data: {}, token, previous: null };
          expectSession(session, s);
          sessions.set(s.id, s);
          ids.push(s.id);
          tokens.push(token);
          break;
        }
        case 'validate': {
          const token = pick(tokens, op.pick);
          if (!token) break;
          const presented = op.forged ? `${token.slice(0, 47)}${'A'.repeat(43)}` : token;
          const expected = authenticate(sessions, presented, t);
          const real = await outcome(manager.validate(presented));
          if (typeof expected === 'string') {
            expect(real).toBe(expected);
            if (expected === 'session_revoked') expect(await manager.get(idOf(token))).not.toBeNull();
            break;
          }
          const { s } = expected;
          if (t - s.lastSeenAt >= TOUCH) Object.assign(s, { lastSeenAt: t, idleExpiresAt: Math.min(t + IDLE, s.absoluteExpiresAt) });
          expectSession(real as Session | string, s);
          break;
        }
        case 'renew': {
          const token = pick(tokens, op.pick);
          if (!token) break;
          const expected = authenticate(sessions, token, t);
          const real = await outcome(manager.renew(token));
          if (typeof expected === 'string') {
            expect(real).toBe(expected);
            break;
          }
          const { s, previous } = expected;
          expect(typeof real).toBe('object');
          const issued = real as { session: Session; token: string };
          if (previous) {
            // A second renewal of the same token hands out the same successor, and changes nothing.
            expect(issued.token).toBe(s.token);
          } else {
            expect(issued.token).not.toBe(token);
            Object.assign(s, { previous: { token, until: t + GRACE }, token: issued.token, lastSeenAt: t,
              idleExpiresAt: Math.min(t + IDLE, s.absoluteExpiresAt), version: s.version + 1 });
            tokens.push(issued.token);
          }
          expectSession(issued.session, s);
          break;
        }
        case 'revoke': {
          const id = pick(ids, op.pick);
          if (!id) break;
          const s = sessions.get(id);
          const expected = s !== undefined && s.revokedAt === null;
          expect(await manager.revoke(id)).toBe(expected);
          if (s && expected) Object.assign(s, { revokedAt: t, revokeReason: 'logout', version: s.version + 1 });
          break;
        }
        case 'revokeAll': {
          const userId = USERS[op.user] as string;
          const except = op.except === null ? undefined : pick(ids, op.except);
          const targets = [...sessions.values()].filter((s) => s.userId === userId && s.revokedAt === null && s.id !== except);
          expect(await manager.revokeAllForUser(userId, except ? { except } : {})).toBe(targets.length);
          for (const s of targets) Object.assign(s, { revokedAt: t, revokeReason: 'logout_all', version: s.version + 1 });
          break;
        }
        case 'update': {
          const id = pick(ids, op.pick);
          if (!id) break;
          const s = sessions.get(id);
          const expectedVersion = s && op.stale ? s.version - 1 : undefined;
          const real = await outcome(manager.update(id, { data: { n: op.n } }, expectedVersion !== undefined && expectedVersion >= 1 ? { expectedVersion } : {}));
          if (!s) expect(real).toBe('session_not_found');
          else if (s.revokedAt !== null) expect(real).toBe('session_revoked');
          else if (t >= s.absoluteExpiresAt || t >= s.idleExpiresAt) expect(real).toBe('session_expired');
          else if (expectedVersion !== undefined && expectedVersion >= 1) expect(real).toBe('version_conflict');
          else {
            Object.assign(s, { version: s.version + 1, data: { n: op.n } });
            expectSession(real as Session | string, s);
            expect((real as Session).data).toEqual({ n: op.n });
          }
          break;
        }
        case 'advance':
          clock.advance(op.ms);
          break;
        case 'sweep': {
          const due = [...sessions.values()].filter((s) => retention(s) <= t);
          expect(await manager.sweepExpired({ batchSize: 2 })).toBe(due.length);
          for (const s of due) sessions.delete(s.id);
          break;
        }
        case 'list': {
          const userId = USERS[op.user] as string;
          const expected = [...sessions.values()].filter((s) => s.userId === userId && live(s, t)).sort(byAge).map((s) => s.id);
          expect((await manager.listForUser(userId)).map((s) => s.id)).toEqual(expected);
          break;
        }
      }
      // After every step the store holds exactly what the model holds.
      for (const id of ids) {
        const s = sessions.get(id);
        const stored = await store.get(id);
        if (!s) {
          expect(stored, `${id} should have been swept`).toBeNull();
          continue;
        }
        expect(stored && { lastSeenAt: stored.lastSeenAt, idleExpiresAt: stored.idleExpiresAt, absoluteExpiresAt: stored.absoluteExpiresAt, revokedAt: stored.revokedAt, revokeReason: stored.revokeReason, version: stored.version, data: stored.data })
          .toEqual({ lastSeenAt: s.lastSeenAt, idleExpiresAt: s.idleExpiresAt, absoluteExpiresAt: s.absoluteExpiresAt, revokedAt: s.revokedAt, revokeReason: s.revokeReason, version: s.version, data: s.data });
      }
    }
  } finally {
    await store.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

// SQLite with synchronous=NORMAL: durability is not what this test checks, and fsyncs would dominate.
const stores: [string, () => SessionStore, number][] = [
  ['memory', () => memoryStore(), 80],
  ['sqlite', () => sqliteStore({ path: join(dir, `model-${(files += 1)}.db`), synchronous: 'normal' }), 25],
];

describe('the session core against a model', () => {
  for (const [label, makeStore, numRuns] of stores) {
    it(`agrees with the model on random operation sequences (${label} store)`, async () => {
      await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }), (ops) => run(makeStore, ops)),
        { seed: 2026, numRuns, endOnFailure: true });
    });
  }
});
