import type { Context, Handler } from 'hono';
import { login, logout } from '../http/adapters/hono.js';
import type { HeaderBag } from '../http/core.js';
import { oidcErrorResponse } from './errors.js';
import { backchannelResponse, logoutTokenFromBody, MAX_FORM_BYTES } from './form.js';
import type { Oidc } from './relying-party.js';
import { logoutThroughProvider, wantsJson } from './rp-logout.js';
import { SessionError } from '../core/errors.js';

/** The route handlers of single sign-on for a Hono app. */
export interface HonoOidcHandlers {
  login: Handler;
  callback: Handler;
  backchannelLogout: Handler;
  /** `POST`: RP-initiated logout (303 to the provider; `200 { location }` to a JSON-only caller). */
  logout: Handler;
  /** `GET` at `postLogoutRedirectUri`: checks `state`, then 303 to the logout's `returnTo`. */
  logoutCallback: Handler;
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
 * Single sign-on for Hono: login, callback, RP-initiated logout and back-channel logout handlers over a relying party
 * made by `createOidc`. Needs `app.use(sessionkit({ sessions }))` first (the callback logs in with
 * the adapter's `login()`, revoking the session the browser carried).
 *
 * @example
 * const sso = oidcHono(oidc);
 * app.get('/auth/login', sso.login);
 * app.get('/auth/callback', sso.callback);
 * app.post('/auth/backchannel-logout', sso.backchannelLogout);
 * app.post('/auth/logout', sso.logout);
 * app.get('/auth/logout/callback', sso.logoutCallback);
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
        await oidc.linkSession(issued.session, finished.identity, finished.idToken);
        for (const cookie of finished.cookies) c.header('Set-Cookie', cookie, { append: true });
        c.header('Cache-Control', 'no-store');
        return c.redirect(finished.returnTo, 303);
      } catch (err) {
        return fail(c, err, [oidc.clearLoginCookie()]);
      }
    },
    logout: async function oidcLogout(c) {
      try {
        const session = c.get('session') ?? null;
        const started = await logoutThroughProvider(oidc.startLogout, { session, returnTo: c.req.query('returnTo') }, () => logout(c));
        // The adapter's logout may add Clear-Site-Data, which would also wipe the logout-state cookie.
        c.header('Clear-Site-Data', undefined);
        for (const cookie of started.cookies) c.header('Set-Cookie', cookie, { append: true });
        c.header('Cache-Control', 'no-store');
        if (wantsJson(c.req.header('accept'))) return c.json({ location: started.location }, 200);
        return c.redirect(started.location, 303);
      } catch (err) {
        return fail(c, err);
      }
    },
    logoutCallback: async function oidcLogoutCallback(c) {
      try {
        const finished = await oidc.finishLogout({ query: new URL(c.req.url).search, headers: headerBag(c) });
        for (const cookie of finished.cookies) c.header('Set-Cookie', cookie, { append: true });
        c.header('Cache-Control', 'no-store');
        return c.redirect(finished.returnTo, 303);
      } catch (err) {
        return fail(c, err, [oidc.clearLogoutCookie()]);
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
