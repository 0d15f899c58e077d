// Clear-Site-Data: "cookies" deletes every cookie of the registrable domain (other applications'
// and an identity provider's on the same site too), so the service sends it on logout only when
// the operator turns clearSiteData on.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { injectSend, serviceClient } from './client.js';

const ADMIN_KEY = 'clear-site-data-admin-key-0123456789ab';
const admin = { 'x-api-key': ADMIN_KEY };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function service(extra: string[]): Promise<{ app: ServiceApp; client: Awaited<ReturnType<typeof serviceClient>> }> {
  const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--log-level', 'silent', '--sweep-interval', '0', ...extra] });
  const app = await buildServer(config, { store: memoryStore() });
  return { app, client: await serviceClient(injectSend(app)) };
}

describe('Clear-Site-Data on the service logout routes', () => {
  let app: ServiceApp | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  async function logouts(extra: string[]) {
    const started = await service(extra);
    app = started.app;
    const { call } = started.client;
    const first = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'csd' } });
    const second = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'csd' } });
    const current = await call('DELETE', '/v1/sessions/current', { headers: bearer(first.body.token) });
    const byId = await call('DELETE', `/v1/sessions/${second.body.session.id}`, { headers: bearer(second.body.token) });
    expect([current.status, byId.status]).toEqual([204, 204]);
    return [current.header('clear-site-data'), byId.header('clear-site-data')];
  }

  it('is not sent by default, on DELETE /v1/sessions/current nor on revoking one\'s own session by id', async () => {
    expect(await logouts([])).toEqual([undefined, undefined]);
  });

  it('is sent on both logout routes with --clear-site-data (SESSIONKIT_CLEAR_SITE_DATA)', async () => {
    expect(await logouts(['--clear-site-data'])).toEqual(['"cookies"', '"cookies"']);
    expect(loadConfig({ env: { SESSIONKIT_CLEAR_SITE_DATA: 'true' } }).clearSiteData).toBe(true);
    expect(loadConfig({ env: {} }).clearSiteData).toBe(false);
  });
});
