// Issue 18, medium 1: text a user controls (user ids, user agents and the browser/OS names parsed
// from them, labels, roles, data keys) must never be used as a key of a plain object. A property
// test feeds the names of Object.prototype's properties through every route that takes or shows
// them, on every store, and checks each answer is the documented success.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import type { SessionStore } from '../../src/stores/types.js';
import { eventually } from '../audit/helpers.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { closeStores, storeKinds } from './stores.js';

const ADMIN_KEY = 'hardening-admin-key-0123456789abcdef';
const admin = { 'x-api-key': ADMIN_KEY };
/** Names an object inherits from Object.prototype, and the ones that reach the prototype itself. */
export const PROTOTYPE_NAMES = [
  '__proto__', 'constructor', 'prototype', 'toString', 'toLocaleString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf',
  'propertyIsEnumerable', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
] as const;
const name = fc.constantFrom(...PROTOTYPE_NAMES);
/** The service's JSON parser refuses a `__proto__` key in any body (400 invalid_request, tested below); the other names pass. */
const dataKey = fc.constantFrom(...PROTOTYPE_NAMES.filter((n) => n !== '__proto__'));
/** User agents whose parsed browser, OS or type is a prototype name (bowser takes `Name/1.0` as the browser). */
const agent = name.chain((n) => fc.constantFrom(`${n}/1 x`, n, `Mozilla/5.0 (${n}; ${n}) ${n}/1.0`, `${n}/2.0 (${n} 10; ${n})`));

const kinds = await storeKinds();
afterAll(closeStores);

/** One JSON object whose own keys are `keys` (built as text: an object literal would set its prototype). */
function dataJson(keys: readonly string[]): string {
  return `{${[...new Set(keys)].map((k, i) => `${JSON.stringify(k)}:${i}`).join(',')}}`;
}

for (const kind of kinds) {
  describeIfAvailable(kind.available, kind.name, 'the store server', kind.where)(`prototype-property names as user text on the ${kind.name} store`, () => {
    let app: ServiceApp;
    let store: SessionStore;
    beforeAll(async () => {
      store = await kind.open();
      const config = loadConfig({
        env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0', '--rate-limit', '1000000/1m'],
      });
      app = await buildServer(config, { store });
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string>, payload?: string) => {
      const res = await app.inject({ method, url, headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) }, ...(payload ? { payload } : {}) });
      return { status: res.statusCode, body: res.body ? (res.json() as Record<string, unknown>) : {}, raw: res.body };
    };

    it('creates, validates, lists, shows in stats and the dashboard, audits and revokes such sessions', async () => {
      await fc.assert(fc.asyncProperty(name, agent, name, fc.array(name, { minLength: 1, maxLength: 3 }), fc.array(dataKey, { minLength: 1, maxLength: 3 }),
        async (userId, userAgent, label, roles, keys) => {
          const body = `{"userId":${JSON.stringify(userId)},"roles":${JSON.stringify(roles)},"device":{"userAgent":${JSON.stringify(userAgent)},"label":${JSON.stringify(label)}},"data":${dataJson(keys)}}`;
          const created = await call('POST', '/v1/sessions', admin, body);
          expect(created.status, created.raw).toBe(201);
          const token = created.body.token as string;
          const id = (created.body.session as { id: string }).id;
          const bearer = { authorization: `Bearer ${token}` };

          const validated = await call('POST', '/v1/sessions/validate', admin, JSON.stringify({ token }));
          expect(validated.status, validated.raw).toBe(200);
          const session = validated.body.session as { userId: string; roles: string[]; data: Record<string, unknown>; device: { label: string; userAgent: string } };
          expect(session.userId).toBe(userId);
          expect(session.roles.sort()).toEqual([...new Set(roles)].sort());
          expect(session.device).toMatchObject({ userAgent, label });
          // JSON.parse makes every key an own property, `__proto__` included.
          expect(Object.keys(session.data).sort()).toEqual([...new Set(keys)].sort());

          const current = await call('GET', '/v1/sessions/current', bearer);
          expect(current.status, current.raw).toBe(200);
          const mine = await call('GET', '/v1/sessions', bearer);
          expect(mine.status, mine.raw).toBe(200);
          expect((mine.body.sessions as { id: string }[]).map((s) => s.id)).toContain(id);
          const path = `/v1/users/${encodeURIComponent(userId)}/sessions`;
          const theirs = await call('GET', path, admin);
          expect(theirs.status, theirs.raw).toBe(200);
          expect((theirs.body.sessions as { id: string }[]).map((s) => s.id)).toContain(id);
          const dash = await call('GET', `/dashboard/api/users/${encodeURIComponent(userId)}/sessions`, admin);
          expect(dash.status, dash.raw).toBe(200);

          const stats = await call('GET', '/v1/stats', admin);
          expect(stats.status, stats.raw).toBe(200);
          const devices = stats.body.devices as Record<string, Record<string, unknown>>;
          for (const counts of Object.values(devices)) for (const n of Object.values(counts)) expect(Number.isInteger(n)).toBe(true);
          const audit = await call('GET', `/v1/audit?userId=${encodeURIComponent(userId)}&limit=5`, admin);
          expect(audit.status, audit.raw).toBe(200);

          const renewed = await call('POST', '/v1/sessions/current/renew', bearer);
          expect(renewed.status, renewed.raw).toBe(200);
          const revoked = await call('DELETE', path, admin);
          expect(revoked.status, revoked.raw).toBe(200);
          expect(revoked.body.revoked).toBeGreaterThanOrEqual(1);
          expect((await call('POST', '/v1/sessions/validate', admin, JSON.stringify({ token: renewed.body.token }))).status).toBe(401);
        }), { numRuns: 25, seed: 20_261_204 });
    }, 120_000);

    it('refuses a __proto__ key in a JSON body as 400 invalid_request, never a 5xx', async () => {
      const res = await call('POST', '/v1/sessions', admin, '{"userId":"u","data":{"__proto__":{"admin":true}}}');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('answers GET /v1/stats with integer counts while a session\'s browser is named constructor (found by review)', async () => {
      const created = await call('POST', '/v1/sessions', admin, JSON.stringify({ userId: 'stats-victim', device: { userAgent: 'constructor/1 x' } }));
      expect(created.status).toBe(201);
      await call('POST', '/v1/sessions', admin, JSON.stringify({ userId: 'stats-victim', device: { userAgent: '__proto__/1 x' } }));
      // The stats learn of new sessions from the audit feed: ask until both are counted.
      const browser = await eventually(async () => {
        const stats = await call('GET', '/v1/stats', admin);
        expect(stats.status, stats.raw).toBe(200);
        const counts = (stats.body.devices as { browser: Record<string, number> }).browser;
        return Object.hasOwn(counts, 'constructor') && Object.hasOwn(counts, '__proto__') ? counts : undefined;
      }, 10_000, 'both sessions in the stats');
      expect([browser.constructor, browser.__proto__]).toEqual([1, 1]);
    });
  });
}

describe('the list of prototype names', () => {
  it('names every property of Object.prototype', () => {
    expect([...PROTOTYPE_NAMES].sort()).toEqual(expect.arrayContaining(Object.getOwnPropertyNames(Object.prototype).sort()));
  });
});
