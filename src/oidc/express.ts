import type { Request, RequestHandler, Response } from 'express';
import type { Session } from '../core/types.js';
import { login, logout } from '../http/adapters/express.js';
import type { HeaderBag } from '../http/core.js';
import { oidcErrorResponse } from './errors.js';
import { backchannelResponse, logoutTokenFromBody, readText } from './form.js';
import type { Oidc } from './relying-party.js';
import { logoutThroughProvider, wantsJson } from './rp-logout.js';

/** The route handlers of single sign-on for an Express app. */
export interface ExpressOidcHandlers {
  /**
   * `POST` (e.g. `/auth/logout?returnTo=/`): RP-initiated logout. Ends the local session and sends
   * the browser to the provider's end-session endpoint (303; `200 { location }` to a caller that
   * accepts JSON only). A cookie session's POST passes the adapter's CSRF check first.
   */
  logout: RequestHandler;
  /** `GET` at `postLogoutRedirectUri`: checks `state`, then 303 to the logout's `returnTo`. */
  logoutCallback: RequestHandler;
  /** `GET` (e.g. `/auth/login?returnTo=/account`): sends the browser to the provider. */
  login: RequestHandler;
  /** `GET` at the registered redirect URI: creates the session and returns to `returnTo`. */
  callback: RequestHandler;
  /** `POST` at the registered `backchannel_logout_uri`. Reads the form body itself. */
  backchannelLogout: RequestHandler;
}

function fail(res: Response, err: unknown, extraCookies: string[] = []): void {
  const { status, headers, body } = oidcErrorResponse(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (extraCookies.length > 0) res.append('Set-Cookie', extraCookies);
  res.status(status).set(headers).json(body);
}

function queryOf(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at);
}

/**
 * Single sign-on for Express: login, callback and back-channel logout handlers over a relying party
 * made by `createOidc`. Needs `app.use(sessionkit({ sessions }))` first: the callback logs in with
 * the adapter's `login()`, so the session the browser carried is revoked (no fixation).
 *
 * @example
 * const sso = oidcExpress(createOidc({ sessions, issuer, clientId, clientSecret, redirectUri, rolesClaim: 'groups' }));
 * app.get('/auth/login', sso.login);
 * app.get('/auth/callback', sso.callback);
 * app.post('/auth/backchannel-logout', sso.backchannelLogout);
 * app.post('/auth/logout', sso.logout);                  // RP-initiated logout
 * app.get('/auth/logout/callback', sso.logoutCallback);   // the registered postLogoutRedirectUri
 */
export function oidcExpress(oidc: Oidc): ExpressOidcHandlers {
  return {
    login: function oidcLogin(req, res) {
      oidc.startLogin({ returnTo: req.query.returnTo }).then(({ location, cookies }) => {
        res.setHeader('Cache-Control', 'no-store');
        res.append('Set-Cookie', cookies);
        res.redirect(303, location);
      }, (err: unknown) => fail(res, err));
    },
    callback: function oidcCallback(req, res) {
      (async () => {
        const finished = await oidc.finishLogin({ query: queryOf(req), headers: req.headers as HeaderBag });
        const issued = await login(res, finished.session);
        await oidc.linkSession(issued.session, finished.identity, finished.idToken);
        res.setHeader('Cache-Control', 'no-store');
        res.append('Set-Cookie', finished.cookies);
        res.redirect(303, finished.returnTo);
      })().catch((err: unknown) => fail(res, err, [oidc.clearLoginCookie()]));
    },
    logout: function oidcLogout(req, res) {
      (async () => {
        const session = (req.session as Session | null | undefined) ?? null;
        const started = await logoutThroughProvider(oidc.startLogout, { session: session && typeof session.id === 'string' ? session : null, returnTo: req.query.returnTo }, () => logout(res));
        // The adapter's logout may add Clear-Site-Data, which would also wipe the logout-state cookie.
        res.removeHeader('Clear-Site-Data');
        res.setHeader('Cache-Control', 'no-store');
        res.append('Set-Cookie', started.cookies);
        if (wantsJson(req.headers.accept)) res.status(200).json({ location: started.location });
        else res.redirect(303, started.location);
      })().catch((err: unknown) => fail(res, err));
    },
    logoutCallback: function oidcLogoutCallback(req, res) {
      oidc.finishLogout({ query: queryOf(req), headers: req.headers as HeaderBag }).then((finished) => {
        res.setHeader('Cache-Control', 'no-store');
        res.append('Set-Cookie', finished.cookies);
        res.redirect(303, finished.returnTo);
      }, (err: unknown) => fail(res, err, [oidc.clearLogoutCookie()]));
    },
    backchannelLogout: function oidcBackchannelLogout(req, res) {
      (async () => {
        // express.urlencoded() may have parsed the body already; otherwise it is read here.
        const parsed = req.body !== undefined && req.body !== null && typeof req.body === 'object' && Object.keys(req.body as object).length > 0;
        const body = parsed ? req.body as unknown : await readText(req);
        const token = logoutTokenFromBody(req.headers['content-type'], body);
        return oidc.backchannelLogout(token, { ip: req.socket.remoteAddress ?? null, userAgent: req.headers['user-agent'] ?? null });
      })().then((result) => result, (err: unknown) => err).then((outcome) => {
        const { status, headers, body } = backchannelResponse(outcome);
        res.status(status).set(headers).json(body);
      });
    },
  };
}
