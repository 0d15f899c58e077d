import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';

const ADMIN_KEY = 'method-not-allowed-admin-key-0123456789';

describe('a known path asked with a method it does not serve', () => {
  let app: ServiceApp;
  beforeAll(async () => {
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0'] });
    app = await buildServer(config, { store: memoryStore() });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 405 with Allow (HEAD where GET is) and a JSON error body', async () => {
    const res = await app.inject({ method: 'PUT', url: '/healthz' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.json()).toMatchObject({ error: 'method_not_allowed' });
  });

  it('lists every method of a path served by several routes', async () => {
    const res = await app.inject({ method: 'PATCH', url: '/v1/sessions?x=1' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('DELETE, GET, HEAD, POST');
  });

  it('matches parametric paths as the router does: a static path also served by a parametric route', async () => {
    const byId = await app.inject({ method: 'GET', url: '/v1/sessions/some-id' });
    expect(byId.statusCode).toBe(405);
    expect(byId.headers.allow).toBe('DELETE');
    const refresh = await app.inject({ method: 'GET', url: '/v1/sessions/refresh' });
    expect(refresh.statusCode).toBe(405);
    expect(refresh.headers.allow).toBe('DELETE, POST');
  });

  it('is documented in /openapi.json as the common response MethodNotAllowed, with Allow', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { components: { responses: Record<string, { headers: Record<string, unknown>; content: Record<string, unknown> }> } };
    const documented = doc.components.responses.MethodNotAllowed;
    expect(documented?.headers.Allow).toBeDefined();
    expect(documented?.content['application/json']).toBeDefined();
  });

  it('still answers 404 not_found for a path no route serves', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers.allow).toBeUndefined();
    expect(res.json()).toMatchObject({ error: 'not_found' });
  });
});
