import Fastify from 'fastify';
import { SessionError } from '../../src/core/errors.js';
import { login, logout, logoutOtherDevices, renew, sendError, sessionkitFastify } from '../../src/http/adapters/fastify.js';
import { adapterSuite, type Reply } from './adapter-suite.js';

adapterSuite('fastify', async (sessions, http) => {
  const app = Fastify();
  await app.register(sessionkitFastify, { sessions, ...http });
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  // A urlencoded parser as in Fastify's docs (the body arrives parsed, as a string), and a multipart
  // one that leaves the stream to the route, as @fastify/multipart does without attachFieldsToBody.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null));
  app.get('/public', async (req) => ({ userId: req.session?.userId ?? null }));
  app.get('/me', { preHandler: app.requireSession }, async (req) => ({ userId: req.session!.userId, roles: req.session!.roles, ip: req.session!.device.ip }));
  app.get('/admin', { preHandler: app.requireRole('admin') }, async () => ({ ok: true }));
  app.post<{ Body: { userId: string; roles: string[] } }>('/login', async (req, reply) => {
    const issued = await login(reply, { userId: req.body.userId, roles: req.body.roles });
    return { sessionId: issued.session.id, csrfToken: issued.csrfToken };
  });
  app.post('/logout', async (_req, reply) => ({ revoked: await logout(reply) }));
  app.post('/logout-others', { preHandler: app.requireSession }, async (_req, reply) => ({ revoked: await logoutOtherDevices(reply) }));
  app.post('/renew', { preHandler: app.requireSession }, async (_req, reply) => { const renewed = await renew(reply); return { sessionId: renewed.session.id, token: renewed.token }; });
  app.post('/write', { preHandler: app.requireSession }, async () => ({ ok: true }));
  app.get('/limited', async (_req, reply) => sendError(reply, new SessionError('rate_limited', 'slow down', { retryAfter: 30 })));
  app.post('/form-echo', { preHandler: app.requireSession }, async (req) => {
    if (typeof req.body === 'string') return { received: req.body };
    const chunks: Buffer[] = [];
    for await (const chunk of req.raw) chunks.push(chunk as Buffer);
    return { received: Buffer.concat(chunks).toString() };
  });
  await app.ready();
  return {
    client: {
      async call(method, path, init = {}) {
        const res = await app.inject({
          method: method as 'GET', url: path, headers: { ...init.headers, ...(init.raw ? { 'content-type': init.raw.type } : {}) },
          ...(init.raw ? { payload: init.raw.data } : init.body === undefined ? {} : { payload: init.body as object }),
        });
        const setCookie = res.headers['set-cookie'];
        const reply: Reply = {
          status: res.statusCode,
          header: (name) => res.headers[name.toLowerCase()] as string | undefined,
          cookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
          body: res.body ? JSON.parse(res.body) as Record<string, unknown> : {},
        };
        return reply;
      },
    },
    close: async () => { await app.close(); await sessions.close(); },
  };
});
