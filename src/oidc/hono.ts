import type { Context, Handler } from 'hono';
import { login } from '../http/adapters/hono.js';
import type { HeaderBag } from '../http/core.js';
import { oidcErrorResponse } from './errors.js';
import { backchannelResponse, logoutTokenFromBody, MAX_FORM_BYTES } from './form.js';
import type { Oidc } from './relying-party.js';
import { SessionError } from '../core/errors.js';

/** The three route handlers of single sign-on for a Hono app. */
export interface HonoOidcHandlers {
  login: Handler;
  callback: Handler;
  backchannelLogout: Handler;
}

function fail(c: Context, err: unknown, extraCookies: string[] = []): Response {
  const { status, headers, body } = oidcErrorResponse(err);
  for (const cookie of extraCookies) c.header('Set-Cookie', cookie, { append: true });
  return c.json(body, status as 400, headers);
}

function headerBag(c: Context): HeaderBag {
  const bag: HeaderBag = {};
  c.req.raw.headers.forEach((value, name) => { bag[name] = value; });
  return bag;
}

/**
 * Single sign-on for Hono: login, callback and back-channel logout handlers over a relying party
 * made by `createOidc`. Needs `app.use(sessionkit({ sessions }))` first (the callback logs in with
 * the adapter's `login()`, revoking the session the browser carried).
 *
 * @example
 * const sso = oidcHono(oidc);
 * app.get('/auth/login', sso.login);
 * app.get('/auth/callback', sso.callback);
 * app.post('/auth/backchannel-logout', sso.backchannelLogout);
 */
export function oidcHono(oidc: Oidc): HonoOidcHandlers {
  return {
    login: async function oidcLogin(c) {
      const requested = c.req.queries('returnTo');
      try {
        const { location, cookies } = await oidc.startLogin({ returnTo: requested && requested.length > 1 ? requested : requested?.[0] });
        for (const cookie of cookies) c.header('Set-Cookie', cookie, { append: true });
        c.header('Cache-Control', 'no-store');
        return c.redirect(location, 303);
      } catch (err) {
        return fail(c, err);
      }
    },
    callback: async function oidcCallback(c) {
      try {
        const finished = await oidc.finishLogin({ query: new URL(c.req.url).search, headers: headerBag(c) });
        const issued = await login(c, finished.session);
        await oidc.linkSession(issued.session, finished.identity);
        for (const cookie of finished.cookies) c.header('Set-Cookie', cookie, { append: true });
        c.header('Cache-Control', 'no-store');
        return c.redirect(finished.returnTo, 303);
      } catch (err) {
        return fail(c, err, [oidc.clearLoginCookie()]);
      }
    },
    backchannelLogout: async function oidcBackchannelLogout(c) {
      let outcome: unknown;
      try {
        const length = Number(c.req.header('content-length') ?? 0);
        if (length > MAX_FORM_BYTES) throw new SessionError('invalid_request', `the back-channel logout request body is larger than ${MAX_FORM_BYTES} bytes`);
        const text = await c.req.text();
        if (text.length > MAX_FORM_BYTES) throw new SessionError('invalid_request', `the back-channel logout request body is larger than ${MAX_FORM_BYTES} bytes`);
        const token = logoutTokenFromBody(c.req.header('content-type'), text);
        outcome = await oidc.backchannelLogout(token, { userAgent: c.req.header('user-agent') ?? null });
      } catch (err) {
        outcome = err;
      }
      const { status, headers, body } = backchannelResponse(outcome);
      return c.json(body, status as 200, headers);
    },
  };
}
