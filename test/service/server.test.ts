import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { injectSend, serviceClient } from './client.js';
import { runScenario } from './scenario.js';

const ADMIN_KEY = 'in-process-admin-key-0123456789abcdef';

describe('the service in-process (memory store, inject)', () => {
  let app: ServiceApp;
  let sessionsKey: string;
  beforeAll(async () => {
    const store = memoryStore();
    sessionsKey = (await createApiKey(store, { name: 'app', scopes: ['sessions'] })).key;
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--trust-proxy', 'true', '--rate-limit', '6/1m', '--log-level', 'silent', '--sweep-interval', '0', '--refresh-grace', '0'] });
    app = await buildServer(config, { store });
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves every route of the contract, with its errors, as /openapi.json describes', async () => {
    const client = await serviceClient(injectSend(app));
    await runScenario(client, { adminKey: ADMIN_KEY, sessionsKey, rateLimit: 6, cookieName: 'sessionkit', origin: 'http://localhost', user: 'inproc' });
  });
});

describe('secure defaults', () => {
  it('uses __Host- cookies with Secure unless insecureCookies is on', async () => {
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--log-level', 'silent', '--sweep-interval', '0'] });
    const app = await buildServer(config);
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY }, payload: { userId: 'u', setCookie: true } });
    const cookies = res.headers['set-cookie'] as string[];
    expect(cookies[0]).toMatch(/^__Host-sessionkit=.*; Secure/);
    expect(cookies[1]).toMatch(/^sessionkit-csrf=.*; Secure/);
    const token = (res.json() as { token: string }).token;
    const me = await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { cookie: `__Host-sessionkit=${token}` } });
    expect(me.statusCode).toBe(200);
    // Without trustProxy, X-Forwarded-For is ignored: the socket address decides (loopback reads metrics).
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { 'x-forwarded-for': '203.0.113.1' } });
    expect(metrics.statusCode).toBe(200);
    await app.close();
  });

  it('expires idle sessions on the fake clock and clears the cookie of a dead session', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--idle-timeout', '5m', '--sweep-interval', '0'] });
    const app = await buildServer(config, { now: () => now });
    const created = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY }, payload: { userId: 'u' } });
    const token = (created.json() as { token: string }).token;
    now += 4 * 60_000;
    expect((await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { cookie: `sessionkit=${token}` } })).statusCode).toBe(200);
    now += 4 * 60_000;
    const slid = await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { cookie: `sessionkit=${token}` } });
    expect(slid.statusCode).toBe(200);
    now += 6 * 60_000;
    const dead = await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { cookie: `sessionkit=${token}` } });
    expect(dead.statusCode).toBe(401);
    expect(dead.json()).toMatchObject({ error: 'session_expired' });
    expect(String(dead.headers['set-cookie'])).toMatch(/sessionkit=; Max-Age=0/);
    await app.close();
  });

  it('answers 503 store_unavailable when the store is gone, and readyz says so', async () => {
    const store = memoryStore();
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--log-level', 'silent', '--sweep-interval', '0'] });
    const app = await buildServer(config, { store });
    await store.close();
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ error: 'store_unavailable' });
    const create = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY }, payload: { userId: 'u' } });
    expect(create.statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });
});
