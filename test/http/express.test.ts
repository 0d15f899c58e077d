import express, { type Request, type Response } from 'express';
import request from 'supertest';
import { SessionError } from '../../src/core/errors.js';
import { login, logout, logoutOtherDevices, renew, requireRole, requireSession, sendError, sessionErrors, sessionkit } from '../../src/http/adapters/express.js';
import { adapterSuite, type Reply } from './adapter-suite.js';

adapterSuite('express', async (sessions, http) => {
  const app = express();
  app.use(express.json());
  app.use(sessionkit({ sessions, ...http }));
  app.get('/public', (req, res) => { res.json({ userId: req.session?.userId ?? null }); });
  app.get('/me', requireSession(), (req, res) => { res.json({ userId: req.session!.userId, roles: req.session!.roles, ip: req.session!.device.ip }); });
  app.get('/admin', requireRole('admin'), (_req, res) => { res.json({ ok: true }); });
  app.post('/login', async (req: Request, res: Response) => {
    const issued = await login(res, { userId: req.body.userId, roles: req.body.roles });
    res.json({ sessionId: issued.session.id, csrfToken: issued.csrfToken });
  });
  app.post('/logout', async (_req, res) => { res.json({ revoked: await logout(res) }); });
  app.post('/logout-others', requireSession(), async (_req, res) => { res.json({ revoked: await logoutOtherDevices(res) }); });
  app.post('/renew', requireSession(), async (_req, res) => { res.json({ sessionId: (await renew(res)).session.id }); });
  app.post('/write', requireSession(), (_req, res) => { res.json({ ok: true }); });
  app.get('/limited', (_req, res) => { sendError(res, new SessionError('rate_limited', 'slow down', { retryAfter: 30 })); });
  app.use(sessionErrors());
  return {
    client: {
      async call(method, path, init = {}) {
        let req = request(app)[method.toLowerCase() as 'get'](path);
        for (const [k, v] of Object.entries(init.headers ?? {})) req = req.set(k, v);
        const res = init.body === undefined ? await req : await req.send(init.body as object);
        const setCookie = res.headers['set-cookie'] as unknown as string[] | string | undefined;
        const reply: Reply = {
          status: res.status,
          header: (name) => res.headers[name.toLowerCase()] as string | undefined,
          cookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
          body: (res.body ?? {}) as Record<string, unknown>,
        };
        return reply;
      },
    },
    close: async () => { await sessions.close(); },
  };
});
