/**
 * Re-authentication in the service ("sudo mode"): the app's login code records a fresh
 * authentication of a session after re-checking the user, and backends ask whether a session is
 * fresh enough for a sensitive action. Freshness is judged by `checkFreshness` (src/core), the
 * same rule as the adapters' `requireRecentAuth`.
 */
import type { FastifyInstance } from 'fastify';
import { checkFreshness } from '../../core/freshness.js';
import type { SessionManager } from '../../core/manager.js';
import type { RequestContext, Session } from '../../core/types.js';
import { NO_STORE_HEADERS } from '../../http/core.js';
import { enforceRecentAuth } from '../../http/freshness.js';
import { errorResponses, issuedSessionSchema, sessionJson, type SessionJson } from '../schemas.js';
import { jwtJson, refreshedSchema } from './jwt.js';
import type { RouteDeps } from './sessions.js';

const methodName = { type: 'string', pattern: '^[A-Za-z0-9_.:+-]{1,64}$' } as const;

/** `recentAuth` of `POST /v1/sessions/validate`: refuse the token unless its session is fresh enough. */
export const recentAuthBodySchema = {
  type: 'object',
  description: 'Refuse with 403 `reauthentication_required` (with `maxAge` and `methods`) unless the last authentication of the session meets this.',
  properties: {
    maxAge: { type: 'integer', minimum: 1, maximum: 31_536_000, description: 'Seconds since the last authentication; default `SESSIONKIT_REAUTH_MAX_AGE`.' },
    methods: { type: 'array', maxItems: 16, items: methodName, description: 'Every one of these must be among the last authentication\'s methods.' },
  },
  additionalProperties: false,
} as const;

const reauthenticateBodySchema = {
  type: 'object',
  required: ['token', 'methods'],
  properties: {
    token: { type: 'string', description: 'The session token, or a JWT session\'s access token, the user presented to the app.' },
    methods: { type: 'array', minItems: 1, maxItems: 16, items: methodName, description: 'How the user just proved who they are, e.g. ["password"] or ["password", "totp"].' },
  },
  additionalProperties: false,
} as const;

/**
 * A session's API form with `fresh` judged against the service's default requirement
 * (`SESSIONKIT_REAUTH_MAX_AGE` and the role rules).
 *
 * @example reply.send({ session: freshSessionJson(sessions, session) })
 */
export function freshSessionJson(sessions: SessionManager, session: Session): SessionJson {
  return sessionJson(session, undefined, checkFreshness(session, sessions.options.reauth, sessions.now()).fresh);
}

/**
 * Judges a validated session for `POST /v1/sessions/validate`: without `recentAuth`, whether it is
 * fresh by the service default; with it, refuses a stale session (403, audited) and returns true.
 *
 * @example const fresh = await validateFreshness(sessions, session, body.recentAuth, { token, ctx });
 */
export async function validateFreshness(sessions: SessionManager, session: Session, recentAuth: { maxAge?: number; methods?: string[] } | undefined,
  req: { token: string; ctx: RequestContext }): Promise<boolean> {
  if (recentAuth === undefined) return checkFreshness(session, sessions.options.reauth, sessions.now()).fresh;
  const requirement = sessions.recentAuth({
    ...(recentAuth.maxAge !== undefined ? { maxAge: recentAuth.maxAge * 1000 } : {}),
    ...(recentAuth.methods !== undefined ? { methods: recentAuth.methods } : {}),
  });
  await enforceRecentAuth(sessions, session, requirement, req);
  return true;
}

/**
 * `POST /v1/sessions/current/reauthenticate` (API key, scope `sessions`): the app re-checked the
 * user (password, second factor) and records it for the session of `token`, which is rotated.
 * Answers like `POST /v1/sessions` does: `{ session, token, expiresAt, csrfToken }`, or for a JWT
 * session `{ session, accessToken, refreshToken, accessTokenExpiresAt, expiresAt, csrfToken }`.
 *
 * @example reauthenticateRoutes(app, deps)
 */
export function reauthenticateRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { sessions, auth } = deps;

  app.post('/v1/sessions/current/reauthenticate', {
    schema: {
      operationId: 'reauthenticateSession', tags: ['sessions'], security: [['apiKey']],
      summary: 'Record a fresh authentication of the session of `token` (the app re-checked the user) and rotate its token; the old token works for the renew grace only',
      body: reauthenticateBodySchema,
      response: { 200: { anyOf: [issuedSessionSchema, refreshedSchema], description: 'The rotated session: `token` (opaque) or `accessToken` + `refreshToken` (jwt)' }, ...errorResponses },
    },
  }, async (request, reply) => {
    const principal = await auth.apiKey(request, 'sessions');
    const { token, methods } = request.body as { token: string; methods: string[] };
    const ctx = auth.context(request, `apikey:${principal.id}`);
    // The token proves which session; like validate, a backend's submitted token is not counted
    // against its IP's attempt limit (every user of the backend shares that IP).
    const session = await sessions.validate(token, ctx);
    const issued = await sessions.reauthenticate(session.id, { methods }, ctx);
    reply.headers(NO_STORE_HEADERS);
    if (!('token' in issued)) return jwtJson(deps, issued);
    return {
      session: sessionJson(issued.session), token: issued.token, expiresAt: issued.expiresAt.toISOString(),
      csrfToken: await deps.csrfToken(issued.session.id),
    };
  });
}
