// Issue 18, "also": a session's data went to the browser on GET /v1/sessions/current and
// GET /v1/sessions, which backends may not expect. SESSIONKIT_USER_VISIBLE_DATA says which keys
// the session's own user sees (all by default, as before; none; or a list); API-key callers
// always see all of it.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer } from '../../src/server/index.js';

const ADMIN_KEY = 'hardening-admin-key-0123456789abcdef';
const admin = { 'x-api-key': ADMIN_KEY };
const DATA = { theme: 'dark', cartId: 'c-17', fraudScore: 0.93, internalNotes: 'watch this one' };

async function service(visible?: string) {
  const config = loadConfig({
    env: visible === undefined ? {} : { SESSIONKIT_USER_VISIBLE_DATA: visible },
    argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0'],
  });
  const app = await buildServer(config);
  const created = await app.inject({ method: 'POST', url: '/v1/sessions', headers: admin, payload: { userId: 'u1', data: DATA, setCookie: true } });
  expect(created.statusCode).toBe(201);
  const { token, session } = created.json() as { token: string; session: { id: string; data: unknown } };
  // The backend that created it sees everything.
  expect(session.data).toEqual(DATA);
  const jwt = (await app.inject({ method: 'POST', url: '/v1/sessions', headers: admin, payload: { userId: 'u1', data: DATA, tokenType: 'jwt' } })).json() as { refreshToken: string };
  const asUser = async () => {
    const bearer = { authorization: `Bearer ${token}` };
    const current = (await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: bearer })).json() as { session: { data: unknown } };
    const list = (await app.inject({ method: 'GET', url: '/v1/sessions', headers: bearer })).json() as { sessions: { data: unknown }[] };
    const refreshed = (await app.inject({ method: 'POST', url: '/v1/sessions/refresh', payload: { refreshToken: jwt.refreshToken } })).json() as { session: { data: unknown } };
    const renewed = (await app.inject({ method: 'POST', url: '/v1/sessions/current/renew', headers: bearer })).json() as { session: { data: unknown } };
    return { current: current.session.data, list: list.sessions.map((s) => s.data), refreshed: refreshed.session.data, renewed: renewed.session.data };
  };
  const asBackend = async () => {
    const validated = (await app.inject({ method: 'POST', url: '/v1/sessions/validate', headers: admin, payload: { token } })).json() as { session: { data: unknown } };
    const listed = (await app.inject({ method: 'GET', url: '/v1/users/u1/sessions', headers: admin })).json() as { sessions: { data: unknown }[] };
    return { validated: validated.session.data, listed: listed.sessions.map((s) => s.data) };
  };
  return { app, asUser, asBackend };
}

describe('data a session\'s own user sees', () => {
  it('is all of it by default, as before', async () => {
    const { app, asUser } = await service();
    expect(await asUser()).toEqual({ current: DATA, list: [DATA, DATA], refreshed: DATA, renewed: DATA });
    await app.close();
  });

  it('is none of it with none, while API-key callers still see everything', async () => {
    const { app, asUser, asBackend } = await service('none');
    expect(await asUser()).toEqual({ current: {}, list: [{}, {}], refreshed: {}, renewed: {} });
    expect(await asBackend()).toEqual({ validated: DATA, listed: [DATA, DATA] });
    await app.close();
  });

  it('is only the listed keys with a list', async () => {
    const { app, asUser, asBackend } = await service('theme, cartId,missing');
    const shown = { theme: 'dark', cartId: 'c-17' };
    expect(await asUser()).toEqual({ current: shown, list: [shown, shown], refreshed: shown, renewed: shown });
    expect(await asBackend()).toEqual({ validated: DATA, listed: [DATA, DATA] });
    await app.close();
  });

  it('refuses a malformed setting with one line naming it', () => {
    expect(() => loadConfig({ env: { SESSIONKIT_USER_VISIBLE_DATA: 'a b' }, argv: [] })).toThrow(/userVisibleData.*expected all, none or comma-separated data keys/);
  });
});
