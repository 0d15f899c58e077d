// Regression tests of issue 17 item 6: what /openapi.json promises is what the service does.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';

const ADMIN_KEY = 'openapi-contract-admin-key-0123456789ab';
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
type Operation = { security: Record<string, string[]>[]; description?: string; parameters?: { name: string; schema: object }[]; responses: Record<string, { description: string }> };
type Doc = { paths: Record<string, Record<string, Operation>> };

describe('the OpenAPI document against the service', () => {
  let app: ServiceApp;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  beforeAll(async () => {
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0'] });
    app = await buildServer(config, { store: memoryStore() });
    doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc;
  });
  afterAll(async () => {
    await app.close();
  });

  const auditParam = (name: string) => {
    const schema = doc.paths['/v1/audit']!.get!.parameters!.find((p) => p.name === name)!.schema;
    return ajv.compile(schema);
  };

  it.each([
    ['limit', ['1', '100', '1000', '0', '1001', '9999', '0010', '-1', '']],
    ['since', ['2025-01-31T12:00:00Z', '2025-01-31T12:00:00.5+02:00', '1738324800000', 'yesterday', 'Tuesday 12:00', '2025-13-45T99:00:00Z', '2025-01-31', '']],
    ['until', ['2025-01-31T12:00:00Z', '1738324800000', 'soon', '2025-01-31 12:00', '']],
  ])('GET /v1/audit accepts exactly the %s values the document allows', async (name, values) => {
    const documented = auditParam(name);
    const outcomes = [];
    for (const value of values) {
      const res = await app.inject({ method: 'GET', url: `/v1/audit?${name}=${encodeURIComponent(value)}`, headers: { 'x-api-key': ADMIN_KEY } });
      outcomes.push({ value, documentedValid: documented(value), accepted: res.statusCode === 200 });
    }
    expect(outcomes.filter((o) => o.documentedValid !== o.accepted)).toEqual([]);
  });

  it('POST /dashboard/logout accepts only the dashboard cookie its security lists, not an API key', async () => {
    const security = doc.paths['/dashboard/logout']!.post!.security;
    expect(security).toEqual([{ dashboardCookie: [] }]);
    const res = await app.inject({ method: 'POST', url: '/dashboard/logout', headers: { 'x-api-key': ADMIN_KEY, origin: 'http://localhost' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'token_missing' });
    // The cookie still signs out.
    const login = await app.inject({ method: 'POST', url: '/dashboard/login', headers: { 'x-api-key': ADMIN_KEY, origin: 'http://localhost' } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const out = await app.inject({ method: 'POST', url: '/dashboard/logout', headers: { cookie, origin: 'http://localhost', 'x-csrf-token': (login.json() as { csrfToken: string }).csrfToken } });
    expect(out.statusCode).toBe(204);
  });

  it('says on every cookie-or-Bearer operation that both at once is a documented 400, as the service answers', async () => {
    const both = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })))
      .filter(({ op }) => op.security.some((s) => 'sessionCookie' in s) && op.security.some((s) => 'bearer' in s));
    expect(both.length).toBeGreaterThan(4);
    for (const { route, op } of both) {
      expect({ route, rule: op.description?.includes('not both') }).toEqual({ route, rule: true });
      expect({ route, documented: op.responses['400']?.description }).toEqual({ route, documented: expect.stringContaining('both in the cookie and in `Authorization: Bearer`') });
    }
    const created = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY }, payload: { userId: 'both' } });
    const token = (created.json() as { token: string }).token;
    const res = await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { cookie: `sessionkit=${token}`, authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request' });
  });
});
