// Fault injection: the clock jumps backwards and forwards (an NTP step, a VM resumed, a wrong
// RTC). The absolute deadline of a session is fixed when it is created; whatever the clock does
// between requests, no operation moves it later, the idle deadline never passes it, and no
// request made at or after it (by the clock of that request) succeeds: validate, renew, refresh,
// access tokens, role changes and re-authentication included. Random sequences of jumps and
// operations (fast-check, fixed seed) on the manager, and the same through the service with an
// injected clock.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { SessionError } from '../../src/core/errors.js';
import { createSessionManager } from '../../src/core/manager.js';
import { buildServer } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { fuzz, RUNS, TIMEOUT } from '../fuzz/harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2030, 0, 1);

/** Clock steps: small drifts, steps of minutes and hours, and days, both ways. */
const jump = fc.oneof(
  fc.integer({ min: -5000, max: 5000 }),
  fc.integer({ min: -90 * MINUTE, max: 90 * MINUTE }),
  fc.integer({ min: -12 * HOUR, max: 12 * HOUR }),
  fc.constantFrom(-48 * HOUR, 48 * HOUR, 8 * HOUR, -8 * HOUR, 30 * MINUTE, 29 * MINUTE + 59_999),
);

type Step =
  | { op: 'jump'; ms: number }
  | { op: 'validate' | 'renew' | 'refresh' | 'access' | 'admin' | 'reauth' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: jump.map((ms) => ({ op: 'jump' as const, ms })) },
  { weight: 4, arbitrary: fc.constantFrom<Step>({ op: 'validate' }, { op: 'renew' }, { op: 'refresh' }, { op: 'access' }, { op: 'admin' }, { op: 'reauth' }) },
);

describe('clock jumps', () => {
  it('never let a session work at or after its absolute deadline, nor move the deadline later (manager)', async () => {
    await fuzz('clock jumps (manager)', fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
      let now = START;
      const store = memoryStore();
      const sessions = createSessionManager({
        store, now: () => now, secret: 'clock-jump-secret-0123456789abcdef0123456', masterKey: Buffer.alloc(32, 3),
        idleTimeout: '30m', absoluteTimeout: '8h', touchInterval: '60s', roles: { admin: { absoluteTimeout: '1h', idleTimeout: '10m' } },
        jwt: { issuer: 'clock', audience: 'clock' }, refreshGrace: '10s', renewGrace: '10s',
      });
      try {
        const opaque = await sessions.create({ userId: 'clock-opaque' });
        const jwt = await sessions.create({ userId: 'clock-jwt', tokenType: 'jwt' });
        const deadline = { [opaque.session.id]: opaque.session.absoluteExpiresAt.getTime(), [jwt.session.id]: jwt.session.absoluteExpiresAt.getTime() };
        let token = opaque.token;
        let refresh = jwt.refreshToken;
        let access = jwt.accessToken;
        const check = async (): Promise<void> => {
          for (const id of Object.keys(deadline)) {
            const r = await store.get(id);
            if (!r) continue;
            expect(r.absoluteExpiresAt, 'the absolute deadline never moves later').toBeLessThanOrEqual(deadline[id] as number);
            deadline[id] = r.absoluteExpiresAt;
            expect(r.idleExpiresAt).toBeLessThanOrEqual(r.absoluteExpiresAt);
          }
        };
        const attempt = async (id: string, work: () => Promise<unknown>): Promise<unknown> => {
          const t = now;
          try {
            const result = await work();
            expect(t, `succeeded at ${t - START} ms, deadline ${(deadline[id] as number) - START} ms`).toBeLessThan(deadline[id] as number);
            return result;
          } catch (err) {
            if (!(err instanceof SessionError)) throw err;
            expect(err.status).toBeLessThan(500);
            return null;
          }
        };
        for (const s of steps) {
          if (s.op === 'jump') now += s.ms;
          else if (s.op === 'validate') await attempt(opaque.session.id, () => sessions.validate(token));
          else if (s.op === 'renew') {
            const r = await attempt(opaque.session.id, () => sessions.renew(token)) as { token: string } | null;
            if (r) token = r.token;
          } else if (s.op === 'refresh') {
            const r = await attempt(jwt.session.id, () => sessions.refresh(refresh)) as { refreshToken: string; accessToken: string; accessTokenExpiresAt: Date } | null;
            if (r) {
              refresh = r.refreshToken;
              access = r.accessToken;
              expect(r.accessTokenExpiresAt.getTime(), 'no access token outlives its session').toBeLessThanOrEqual(deadline[jwt.session.id] as number);
            }
          } else if (s.op === 'access') await attempt(jwt.session.id, () => sessions.validate(access));
          else if (s.op === 'admin') await attempt(opaque.session.id, () => sessions.update(opaque.session.id, { roles: ['admin'] }));
          else {
            const r = await attempt(jwt.session.id, () => sessions.reauthenticate(jwt.session.id, { methods: ['password'] })) as { refreshToken: string; accessToken: string } | null;
            if (r) {
              refresh = r.refreshToken;
              access = r.accessToken;
            }
          }
          await check();
        }
      } finally {
        await sessions.close();
      }
    }), Math.max(50, Math.ceil(RUNS / 4)));
  }, TIMEOUT);

  it('never let a session work at or after its absolute deadline through the service with an injected clock', async () => {
    let now = START;
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', 'clock-admin-key-0123456789abcdef', '--log-level', 'silent', '--sweep-interval', '0', '--absolute-timeout', '8h', '--idle-timeout', '30m'] });
    const app = await buildServer(config, { now: () => now });
    try {
      const created = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': 'clock-admin-key-0123456789abcdef' }, payload: { userId: 'clock-svc' } });
      let { token } = created.json() as { token: string };
      const deadline = Date.parse((created.json() as { session: { absoluteExpiresAt: string } }).session.absoluteExpiresAt);
      const current = () => app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { authorization: `Bearer ${token}` } });
      // Back a day, then active every 20 minutes (sliding and renewing) right up to the deadline.
      now -= 24 * HOUR;
      expect((await current()).statusCode).toBe(200);
      now = START;
      while (now + 20 * MINUTE < deadline) {
        now += 20 * MINUTE;
        expect((await current()).statusCode).toBe(200);
        const renewed = await app.inject({ method: 'POST', url: '/v1/sessions/current/renew', headers: { authorization: `Bearer ${token}` } });
        expect(renewed.statusCode).toBe(200);
        token = (renewed.json() as { token: string }).token;
        expect(Date.parse((renewed.json() as { session: { absoluteExpiresAt: string } }).session.absoluteExpiresAt)).toBe(deadline);
      }
      now = deadline;
      const dead = await current();
      expect(dead.statusCode).toBe(401);
      expect(dead.json()).toMatchObject({ error: 'session_expired' });
      // And a second later.
      now = deadline + 1000;
      expect((await current()).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});

