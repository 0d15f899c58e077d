import type { FastifyInstance, FastifyReply, FastifySchema } from 'fastify';
import type { SessionManager } from '../../core/manager.js';
import { NO_STORE_HEADERS } from '../../http/core.js';
import { ASSETS, type AssetName } from '../dashboard/assets.js';
import type { DashboardAuth } from '../dashboard/auth.js';
import { appPage, loginPage } from '../dashboard/page.js';
import type { ServiceAuth } from '../auth.js';
import { errorResponses, errorSchema, revokedCountSchema, sessionJson, sessionListSchema } from '../schemas.js';

/** No inline script or style, nothing from another origin, never framed. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const userParams = { type: 'object', required: ['userId'], properties: { userId: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const dashboardAuthSecurity = [['dashboardCookie']];
const htmlResponses = {
  200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } },
  '4XX': { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
};

function pageHeaders(reply: FastifyReply): void {
  reply.headers({
    ...NO_STORE_HEADERS, 'content-security-policy': CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer',
  });
}

/**
 * The monitoring dashboard: the page (sign-in form or the live view), its static assets, sign-in
 * with an admin API key and sign-out, and the few writes the page makes (revoke one session,
 * log a user out everywhere), all with the dashboard cookie and its CSRF token.
 *
 * @example dashboardRoutes(app, { sessions, auth, dashAuth })
 */
export function dashboardRoutes(app: FastifyInstance, deps: { sessions: SessionManager; auth: ServiceAuth; dashAuth: DashboardAuth }): void {
  const { sessions, auth, dashAuth } = deps;

  app.get('/dashboard', {
    schema: {
      operationId: 'dashboard', tags: ['dashboard'], security: [[], ['dashboardCookie']],
      summary: 'The live monitoring page (the sign-in form without a dashboard cookie)',
      openapiResponses: htmlResponses,
    } as FastifySchema,
  }, async (request, reply) => {
    const current = await dashAuth.current(request);
    pageHeaders(reply);
    reply.type('text/html; charset=utf-8');
    return current ? appPage({ csrfToken: await dashAuth.csrfToken(current.id), keyName: current.keyName }) : loginPage();
  });

  app.get('/dashboard/assets/:file', {
    schema: {
      operationId: 'dashboardAsset', tags: ['dashboard'],
      summary: 'The dashboard’s scripts, styles and icon (served here: no CDN)',
      params: { type: 'object', required: ['file'], properties: { file: { type: 'string', enum: Object.keys(ASSETS) } } },
      openapiResponses: {
        200: {
          description: 'JavaScript, CSS or the SVG icon',
          content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } }, 'image/svg+xml': { schema: { type: 'string' } } },
        },
        '4XX': { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
      },
    } as FastifySchema,
  }, async (request, reply) => {
    const asset = ASSETS[(request.params as { file: AssetName }).file];
    reply.type(asset.type).header('cache-control', 'no-cache').header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return asset.body;
  });

  app.post('/dashboard/login', {
    schema: {
      operationId: 'dashboardLogin', tags: ['dashboard'], security: [['apiKey']],
      summary: 'Sign in to the dashboard with an admin API key (`X-API-Key`); sets the dashboard cookie',
      response: {
        200: {
          type: 'object', required: ['csrfToken', 'expiresAt'],
          properties: { csrfToken: { type: 'string', description: 'Send as X-CSRF-Token on the dashboard’s writes.' }, expiresAt: { type: 'string', format: 'date-time' } },
          additionalProperties: false,
        },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const { csrfToken, expiresAt } = await dashAuth.login(request, reply);
    reply.headers(NO_STORE_HEADERS);
    return { csrfToken, expiresAt: expiresAt.toISOString() };
  });

  app.post('/dashboard/logout', {
    schema: {
      operationId: 'dashboardLogout', tags: ['dashboard'], security: dashboardAuthSecurity,
      summary: 'Sign out of the dashboard (needs X-CSRF-Token)',
      response: { 204: { type: 'null', description: 'Signed out' }, ...errorResponses },
    },
  }, async (request, reply) => {
    await dashAuth.logout(request, reply);
    return reply.code(204).send();
  });

  app.get('/dashboard/api/users/:userId/sessions', {
    schema: {
      operationId: 'dashboardUserSessions', tags: ['dashboard'], security: [['apiKey'], ['dashboardCookie']],
      summary: "A user's live sessions, for the dashboard's user search",
      params: userParams,
      response: { 200: sessionListSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    await dashAuth.admin(request);
    const { userId } = request.params as { userId: string };
    reply.headers(NO_STORE_HEADERS);
    return { sessions: (await sessions.listForUser(userId)).map((s) => sessionJson(s)) };
  });

  app.delete('/dashboard/api/sessions/:id', {
    schema: {
      operationId: 'dashboardRevokeSession', tags: ['dashboard'], security: [['apiKey'], ['dashboardCookie']],
      summary: 'Revoke one session from the dashboard (needs X-CSRF-Token with the cookie)',
      params: idParams,
      response: { 204: { type: 'null', description: 'Revoked' }, ...errorResponses },
    },
  }, async (request, reply) => {
    const caller = await dashAuth.admin(request);
    const { id } = request.params as { id: string };
    const revoked = await sessions.revoke(id, { ...auth.context(request, caller.actor), reason: 'admin' });
    if (!revoked) return reply.code(404).headers(NO_STORE_HEADERS).send({ error: 'session_not_found', message: 'no live session with this id' });
    return reply.code(204).send();
  });

  app.delete('/dashboard/api/users/:userId/sessions', {
    schema: {
      operationId: 'dashboardRevokeUserSessions', tags: ['dashboard'], security: [['apiKey'], ['dashboardCookie']],
      summary: 'Log a user out everywhere from the dashboard (needs X-CSRF-Token with the cookie)',
      params: userParams,
      response: { 200: revokedCountSchema, ...errorResponses },
    },
  }, async (request) => {
    const caller = await dashAuth.admin(request);
    const { userId } = request.params as { userId: string };
    return { revoked: await sessions.revokeAllForUser(userId, { ...auth.context(request, caller.actor), reason: 'admin' }) };
  });
}
