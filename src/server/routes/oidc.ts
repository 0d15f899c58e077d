import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../../config/load.js';
import type { ServiceConfig } from '../../config/schema.js';
import type { SessionManager } from '../../core/manager.js';
import { clearSessionCookies, extractToken, type HeaderBag } from '../../http/core.js';
import { oidcErrorResponse } from '../../oidc/errors.js';
import { createOidc, type Oidc } from '../../oidc/relying-party.js';
import { logoutThroughProvider, wantsJson } from '../../oidc/rp-logout.js';
import { errorResponses } from '../schemas.js';
import { setSessionCookies, type RouteDeps } from './sessions.js';
import { failureFields } from '../failure-log.js';

const redirectResponse = (description: string) => ({
  '303': {
    description,
    headers: {
      Location: { description: 'Where the browser goes next.', schema: { type: 'string' } },
      'Set-Cookie': { description: 'The cookies this step sets or clears.', schema: { type: 'string' } },
      'X-Request-Id': { description: 'The request id: echoed from the request, or generated.', schema: { type: 'string' } },
    },
  },
});

/**
 * The service's relying party, built from the `oidc*` options; null when `oidcIssuer` is unset
 * (single sign-on off: its routes are absent). Throws `ConfigError` for an incomplete set.
 *
 * @example const oidc = oidcFromConfig(config, sessions)
 */
export function oidcFromConfig(config: ServiceConfig, sessions: SessionManager): Oidc | null {
  if (config.oidcIssuer === null) return null;
  if (config.oidcClientId === null) throw new ConfigError('option oidcClientId (SESSIONKIT_OIDC_CLIENT_ID) is required with oidcIssuer', 'oidcClientId');
  if (config.oidcRedirectUri === null) throw new ConfigError('option oidcRedirectUri (SESSIONKIT_OIDC_REDIRECT_URI) is required with oidcIssuer: the service\'s /v1/oidc/callback as browsers reach it', 'oidcRedirectUri');
  if (config.oidcReturnTo === null || config.oidcReturnTo.length === 0) throw new ConfigError('option oidcReturnTo (SESSIONKIT_OIDC_RETURN_TO) is required with oidcIssuer: where a login may return to', 'oidcReturnTo');
  try {
    return createOidc({
      sessions, issuer: config.oidcIssuer, clientId: config.oidcClientId, redirectUri: config.oidcRedirectUri,
      ...(config.oidcClientSecret !== null ? { clientSecret: config.oidcClientSecret } : {}),
      scope: config.oidcScope, returnTo: config.oidcReturnTo,
      ...(config.oidcRolesClaim !== null ? { rolesClaim: config.oidcRolesClaim } : {}),
      ...(config.oidcRoleMap !== null ? { roleMap: config.oidcRoleMap } : {}),
      ...(config.oidcUserIdClaim !== null ? { userIdClaim: config.oidcUserIdClaim } : {}),
      ...(config.oidcPostLogoutRedirectUri !== null ? { postLogoutRedirectUri: config.oidcPostLogoutRedirectUri } : {}),
      acceptUntypedLogoutTokens: config.oidcAcceptUntypedLogoutTokens,
      insecureCookies: config.insecureCookies,
      // Honoured for loopback issuers only (createOidc refuses any other http:// issuer).
      allowInsecureRequests: true,
    });
  } catch (err) {
    throw new ConfigError(`invalid single sign-on configuration: ${(err as Error).message}`, 'oidcIssuer');
  }
}

/**
 * Single sign-on routes (present only when OIDC is configured): `GET /v1/oidc/login` sends the
 * browser to the provider, `GET /v1/oidc/callback` creates the session (a new token; the session
 * the browser carried is revoked) and returns to an allowed `returnTo`; `POST /v1/oidc/logout`
 * ends the session and the provider's (RP-initiated logout), `GET /v1/oidc/logout/callback` is
 * where the provider sends the browser back.
 *
 * @example oidcRoutes(app, deps, oidc)
 */
export function oidcRoutes(app: FastifyInstance, deps: RouteDeps, oidc: Oidc): void {
  const { sessions, auth } = deps;

  app.get('/v1/oidc/login', {
    schema: {
      operationId: 'oidcLogin', tags: ['sso'], security: [],
      summary: 'Start a single sign-on login: 303 to the OpenID provider (code flow with PKCE, state and nonce)',
      querystring: {
        type: 'object',
        properties: { returnTo: { type: 'string', maxLength: 2048, description: 'Where to go after the login: an entry of SESSIONKIT_OIDC_RETURN_TO (default: its first entry).' } },
        additionalProperties: false,
      },
      response: { ...errorResponses },
      openapiResponses: redirectResponse('To the provider\'s authorization endpoint; sets the short-lived login-state cookie'),
    },
  }, async (request, reply) => {
    try {
      const { location, cookies } = await oidc.startLogin({ returnTo: (request.query as { returnTo?: string }).returnTo });
      return reply.header('set-cookie', cookies).header('cache-control', 'no-store').redirect(location, 303);
    } catch (err) {
      const { status, headers, body } = oidcErrorResponse(err);
      if (status >= 500) request.log.error(failureFields(err, status), 'request failed');
      return reply.code(status).headers(headers).send(body);
    }
  });

  app.get('/v1/oidc/callback', {
    schema: {
      operationId: 'oidcCallback', tags: ['sso'], security: [],
      summary: 'The redirect URI: checks the provider\'s answer, creates the session, 303 to returnTo',
      querystring: {
        type: 'object',
        properties: {
          code: { type: 'string', maxLength: 4096 }, state: { type: 'string', maxLength: 1024 }, iss: { type: 'string', maxLength: 2048 },
          error: { type: 'string', maxLength: 256 }, error_description: { type: 'string', maxLength: 4096 },
        },
        // Providers add their own parameters (Keycloak's session_state): ignored, not refused.
        additionalProperties: true,
      },
      response: { ...errorResponses },
      openapiResponses: redirectResponse('To returnTo, with the new session cookie and CSRF cookie; the login-state cookie is cleared'),
    },
  }, async (request, reply) => {
    try {
      const finished = await oidc.finishLogin({ query: queryOf(request.url), headers: request.headers as HeaderBag });
      const ctx = auth.context(request, 'oidc');
      const issued = await sessions.create({
        ...finished.session,
        device: { userAgent: ctx.userAgent ?? null, ip: ctx.ip ?? null },
        // The session this browser already carried is revoked, never continued (no fixation).
        replaces: presentedToken(request.headers as HeaderBag, deps),
      }, ctx);
      await oidc.linkSession(issued.session, finished.identity, finished.idToken);
      await setSessionCookies(reply, deps, issued.token, issued.session, await deps.csrfToken(issued.session.id));
      for (const cookie of finished.cookies) reply.header('set-cookie', cookie);
      return reply.header('cache-control', 'no-store').redirect(finished.returnTo, 303);
    } catch (err) {
      const { status, headers, body } = oidcErrorResponse(err);
      if (status >= 500) request.log.error(failureFields(err, status), 'request failed');
      return reply.code(status).headers(headers).header('set-cookie', oidc.clearLoginCookie()).send(body);
    }
  });

  app.post('/v1/oidc/logout', {
    schema: {
      operationId: 'oidcLogout', tags: ['sso'], security: [['sessionCookie'], ['bearer']],
      summary: 'RP-initiated logout: ends the caller\'s session and sends the browser to the provider\'s end_session_endpoint',
      description: 'OpenID Connect RP-Initiated Logout 1.0. The session ends here first; the provider gets `id_token_hint` (the ID Token kept, sealed, since the login), '
        + '`post_logout_redirect_uri` (SESSIONKIT_OIDC_POST_LOGOUT_REDIRECT_URI, when set) and a fresh `state`, sealed in a short-lived cookie. '
        + 'A cookie session needs `X-CSRF-Token` and a same-origin request, as every cookie write; a script (`Accept: application/json`) gets `200 { location }` and navigates there itself.',
      querystring: {
        type: 'object',
        properties: { returnTo: { type: 'string', maxLength: 2048, description: 'Where to go once the provider sends the browser back: an entry of SESSIONKIT_OIDC_RETURN_TO (default: its first entry).' } },
        additionalProperties: false,
      },
      response: {
        200: {
          description: 'For a caller that accepts JSON only: where to send the browser (the session has ended)',
          type: 'object', required: ['location'], properties: { location: { type: 'string' } }, additionalProperties: false,
        },
        ...errorResponses,
      },
      openapiResponses: redirectResponse('To the provider\'s end_session_endpoint; clears the session cookies and sets the logout-state cookie'),
    },
  }, async (request, reply) => {
    const returnTo = (request.query as { returnTo?: string }).returnTo;
    const { session } = await auth.session(request, reply);
    const ctx = auth.context(request);
    try {
      const started = await logoutThroughProvider(oidc.startLogout, { session, returnTo }, () => sessions.revoke(session.id, { ...ctx, reason: 'logout' }));
      reply.header('set-cookie', [...clearSessionCookies(deps.http), ...started.cookies]).header('cache-control', 'no-store');
      if (wantsJson(request.headers.accept)) return reply.code(200).send({ location: started.location });
      return reply.redirect(started.location, 303);
    } catch (err) {
      const { status, headers, body } = oidcErrorResponse(err);
      return reply.code(status).headers(headers).send(body);
    }
  });

  app.get('/v1/oidc/logout/callback', {
    schema: {
      operationId: 'oidcLogoutCallback', tags: ['sso'], security: [],
      summary: 'The post_logout_redirect_uri: checks state against the logout-state cookie, 303 to returnTo',
      querystring: {
        type: 'object',
        properties: { state: { type: 'string', maxLength: 1024 } },
        // Providers may add their own parameters: ignored, not refused.
        additionalProperties: true,
      },
      response: { ...errorResponses },
      openapiResponses: redirectResponse('To the logout\'s returnTo; the logout-state cookie is cleared'),
    },
  }, async (request, reply) => {
    try {
      const finished = await oidc.finishLogout({ query: queryOf(request.url), headers: request.headers as HeaderBag });
      for (const cookie of finished.cookies) reply.header('set-cookie', cookie);
      return reply.header('cache-control', 'no-store').redirect(finished.returnTo, 303);
    } catch (err) {
      const { status, headers, body } = oidcErrorResponse(err);
      return reply.code(status).headers(headers).header('set-cookie', oidc.clearLogoutCookie()).send(body);
    }
  });
}

function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at);
}

/** The session token the browser sent (to revoke at login), or null; an ambiguous request counts as none. */
function presentedToken(headers: HeaderBag, deps: RouteDeps): string | null {
  try {
    return extractToken(headers, deps.http).token;
  } catch {
    return null;
  }
}
