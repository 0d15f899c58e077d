import { Hono } from 'hono';
import { SessionError } from '../../src/core/errors.js';
import { login, logout, logoutOtherDevices, renew, requireRole, requireSession, sendError, sessionkit } from '../../src/http/adapters/hono.js';
import { adapterSuite, type Reply } from './adapter-suite.js';

adapterSuite('hono', async (sessions, http) => {
  const app = new Hono();
  // app.request has no socket: the test's "socket address" is a fixed loopback address.
  app.use(sessionkit({ sessions, ...http, remoteAddress: () => '127.0.0.1' }));
  app.onError((err, c) => sendError(c, err));
  app.get('/public', (c) => c.json({ userId: c.get('session')?.userId ?? null }));
  app.get('/me', requireSession(), (c) => {
    const s = c.get('session')!;
    return c.json({ userId: s.userId, roles: s.roles, ip: s.device.ip });
  });
  app.get('/admin', requireRole('admin'), (c) => c.json({ ok: true }));
  app.post('/login', async (c) => {
    const body = await c.req.json<{ userId: string; roles: string[] }>();
    const issued = await login(c, { userId: body.userId, roles: body.roles });
    return c.json({ sessionId: issued.session.id, csrfToken: issued.csrfToken });
  });
  app.post('/logout', async (c) => c.json({ revoked: await logout(c) }));
  app.post('/logout-others', requireSession(), async (c) => c.json({ revoked: await logoutOtherDevices(c) }));
  app.post('/renew', requireSession(), async (c) => { const renewed = await renew(c); return c.json({ sessionId: renewed.session.id, token: renewed.token }); });
  app.post('/write', requireSession(), (c) => c.json({ ok: true }));
  app.get('/limited', (c) => sendError(c, new SessionError('rate_limited', 'slow down', { retryAfter: 30 })));
  app.post('/form-echo', requireSession(), async (c) => c.json({ received: await c.req.text() }));
  return {
    client: {
      async call(method, path, init = {}) {
        const headers = new Headers(init.headers ?? {});
        if (init.body !== undefined) headers.set('content-type', 'application/json');
        if (init.raw) headers.set('content-type', init.raw.type);
        const body = init.raw ? init.raw.data : init.body === undefined ? undefined : JSON.stringify(init.body);
        const res = await app.request(`https://app.example.org${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
        const text = await res.text();
        const reply: Reply = {
          status: res.status,
          header: (name) => res.headers.get(name) ?? undefined,
          cookies: res.headers.getSetCookie(),
          body: text ? JSON.parse(text) as Record<string, unknown> : {},
        };
        return reply;
      },
    },
    close: async () => { await sessions.close(); },
  };
});
