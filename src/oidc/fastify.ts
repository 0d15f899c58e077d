import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { login, logout } from '../http/adapters/fastify.js';
import type { HeaderBag } from '../http/core.js';
import { oidcErrorResponse } from './errors.js';
import { backchannelResponse, logoutTokenFromBody, MAX_FORM_BYTES } from './form.js';
import type { Oidc } from './relying-party.js';
import { logoutThroughProvider, wantsJson } from './rp-logout.js';

/** Options of the `oidcFastify` plugin. */
export interface FastifyOidcOptions {
  oidc: Oidc;
  /** Default `/auth/login`. */
  loginPath?: string;
  /** Default `/auth/callback`: must be the path of the registered redirect URI. */
  callbackPath?: string;
  /** Default `/auth/backchannel-logout`. */
  backchannelPath?: string;
  /** Default `/auth/logout` (POST): RP-initiated logout. */
  logoutPath?: string;
  /** Default `/auth/logout/callback`: must be the path of `postLogoutRedirectUri`. */
  logoutCallbackPath?: string;
}

function fail(reply: FastifyReply, err: unknown, extraCookies: string[] = []): FastifyReply {
  const { status, headers, body } = oidcErrorResponse(err);
  for (const cookie of extraCookies) reply.header('set-cookie', cookie);
  return reply.code(status).headers(headers).send(body);
}

function queryOf(request: FastifyRequest): string {
  const at = request.url.indexOf('?');
  return at === -1 ? '' : request.url.slice(at);
}

/**
 * Single sign-on for Fastify: a plugin that adds the login, callback, RP-initiated logout
 * (`POST /auth/logout`, `GET /auth/logout/callback`) and back-channel logout routes over a relying party made by `createOidc`. Register it after the sessionkit plugin (its
 * routes need the request's session state; the callback logs in with the adapter's `login()`,
 * revoking the session the browser carried). The plugin is encapsulated: the form parser of the
 * back-channel route stays inside it.
 *
 * @example
 * await app.register(sessionkitFastify, { sessions });
 * await app.register(oidcFastify, { oidc: createOidc({ sessions, issuer, clientId, clientSecret, redirectUri }) });
 */
export async function oidcFastify(fastify: FastifyInstance, options: FastifyOidcOptions): Promise<void> {
  const { oidc } = options;
  // Every body reaches the handler as text, so a wrong media type is the back-channel's 400, not a 415.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_request, body, done) => done(null, body));

  fastify.get(options.loginPath ?? '/auth/login', async function oidcLogin(request, reply) {
    try {
      const { location, cookies } = await oidc.startLogin({ returnTo: (request.query as Record<string, unknown>).returnTo });
      for (const cookie of cookies) reply.header('set-cookie', cookie);
      return reply.header('cache-control', 'no-store').redirect(location, 303);
    } catch (err) {
      return fail(reply, err);
    }
  });

  fastify.get(options.callbackPath ?? '/auth/callback', async function oidcCallback(request, reply) {
    try {
      const finished = await oidc.finishLogin({ query: queryOf(request), headers: request.headers as HeaderBag });
      const issued = await login(reply, finished.session);
      await oidc.linkSession(issued.session, finished.identity, finished.idToken);
      for (const cookie of finished.cookies) reply.header('set-cookie', cookie);
      return reply.header('cache-control', 'no-store').redirect(finished.returnTo, 303);
    } catch (err) {
      return fail(reply, err, [oidc.clearLoginCookie()]);
    }
  });

  fastify.post(options.logoutPath ?? '/auth/logout', async function oidcLogout(request, reply) {
    try {
      const started = await logoutThroughProvider(oidc.startLogout, { session: request.session ?? null, returnTo: (request.query as Record<string, unknown>).returnTo }, () => logout(reply));
      // The adapter's logout may add Clear-Site-Data, which would also wipe the logout-state cookie.
      reply.removeHeader('clear-site-data');
      for (const cookie of started.cookies) reply.header('set-cookie', cookie);
      reply.header('cache-control', 'no-store');
      if (wantsJson(request.headers.accept)) return reply.code(200).send({ location: started.location });
      return reply.redirect(started.location, 303);
    } catch (err) {
      return fail(reply, err);
    }
  });

  fastify.get(options.logoutCallbackPath ?? '/auth/logout/callback', async function oidcLogoutCallback(request, reply) {
    try {
      const finished = await oidc.finishLogout({ query: queryOf(request), headers: request.headers as HeaderBag });
      for (const cookie of finished.cookies) reply.header('set-cookie', cookie);
      return reply.header('cache-control', 'no-store').redirect(finished.returnTo, 303);
    } catch (err) {
      return fail(reply, err, [oidc.clearLogoutCookie()]);
    }
  });

  fastify.post(options.backchannelPath ?? '/auth/backchannel-logout', async function oidcBackchannelLogout(request, reply) {
    let outcome: unknown;
    try {
      const token = logoutTokenFromBody(request.headers['content-type'], request.body ?? '');
      outcome = await oidc.backchannelLogout(token, { ip: request.ip, userAgent: request.headers['user-agent'] ?? null, requestId: request.id });
    } catch (err) {
      outcome = err;
    }
    const { status, headers, body } = backchannelResponse(outcome);
    return reply.code(status).headers(headers).send(body);
  });
}
