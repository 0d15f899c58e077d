// Issue 18, low 7: PostgreSQL answered 503 store_unavailable to a NUL character or a lone
// surrogate in a user id, user agent, label, data or role (and in DELETE /v1/sessions/x%00),
// where the other stores accepted them. The same input now gets the same answer on every store:
// 400 invalid_request, never an outage.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import type { SessionStore } from '../../src/stores/types.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { closeStores, storeKinds } from './stores.js';

const ADMIN_KEY = 'hardening-admin-key-0123456789abcdef';
const admin = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };
/** As JSON text: the escapes arrive as the characters themselves after parsing. */
const BAD = ['a\\u0000b', '\\ud800', 'x\\udc00y', '\\udbff\\u0041'];

const kinds = await storeKinds();
afterAll(closeStores);

for (const kind of kinds) {
  describeIfAvailable(kind.available, kind.name, 'the store server', kind.where)(`NUL and lone surrogates on the ${kind.name} store`, () => {
    let app: ServiceApp;
    let store: SessionStore;
    let bearer: Record<string, string>;
    beforeAll(async () => {
      store = await kind.open();
      const config = loadConfig({
        env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0', '--rate-limit', '1000000/1m'],
      });
      app = await buildServer(config, { store });
      const created = await app.inject({ method: 'POST', url: '/v1/sessions', headers: admin, payload: '{"userId":"text-owner"}' });
      bearer = { authorization: `Bearer ${(created.json() as { token: string }).token}` };
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    const expect400 = (res: { statusCode: number; body: string }, what: string): void => {
      expect(res.statusCode, `${what}: ${res.body}`).toBe(400);
      expect((JSON.parse(res.body) as { error: string }).error, what).toBe('invalid_request');
    };

    it('refuses them in every text field of POST /v1/sessions with 400 invalid_request', async () => {
      for (const bad of BAD) {
        for (const body of [`{"userId":"${bad}"}`, `{"userId":"u","roles":["${bad}"]}`, `{"userId":"u","device":{"userAgent":"${bad}"}}`,
          `{"userId":"u","device":{"label":"${bad}"}}`, `{"userId":"u","device":{"ip":"${bad}"}}`, `{"userId":"u","data":{"k":"${bad}"}}`,
          `{"userId":"u","data":{"${bad}":true}}`, `{"userId":"u","data":{"a":[{"b":"${bad}"}]}}`]) {
          expect400(await app.inject({ method: 'POST', url: '/v1/sessions', headers: admin, payload: body }), body);
        }
      }
    });

    it('refuses NUL in path parameters and query filters, from an end user and from a backend', async () => {
      for (const [method, url, headers] of [
        ['DELETE', '/v1/sessions/x%00', bearer], ['DELETE', '/v1/sessions/x%00', admin], ['GET', '/v1/users/a%00b/sessions', admin],
        ['DELETE', '/v1/users/a%00b/sessions', admin], ['DELETE', '/v1/users/text-owner/sessions?except=x%00', admin],
        ['GET', '/v1/audit?userId=%00', admin], ['GET', '/v1/audit?sessionId=a%00', admin], ['GET', '/v1/audit?ip=%00', admin],
        ['GET', '/dashboard/api/users/a%00/sessions', admin], ['DELETE', '/dashboard/api/sessions/x%00', admin],
      ] as const) {
        const { 'content-type': _json, ...plain } = headers as Record<string, string>;
        expect400(await app.inject({ method, url, headers: plain }), `${method} ${url}`);
      }
      // The owner's session was never touched by any of it.
      expect((await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: bearer })).statusCode).toBe(200);
    });
  });
}
