import { randomNonce, randomPKCECodeVerifier, randomState } from 'openid-client';
import { SessionError } from '../core/errors.js';
import type { RequestContext, Session } from '../core/types.js';
import type { HeaderBag } from '../http/core.js';
import { backchannelLogout } from './backchannel.js';
import { providerClient } from './client.js';
import { clearLoginStateCookie, loginStateCookie, openLoginState, sealLoginState } from './login-state.js';
import { resolveOidcOptions, type IdTokenClaims, type OidcOptions } from './options.js';
import { checkReturnTo } from './return-to.js';
import { rolesFromClaims } from './roles.js';
import { linkSession, OIDC_DATA_KEY, type OidcIdentity } from './session-index.js';
import { sealIdToken } from './id-token.js';
import { clearLogoutStateCookie } from './logout-state.js';
import { rpLogout } from './rp-logout.js';

/** What `startLogin` returns: where to send the browser, and the login-state cookie to set. */
export interface StartedLogin {
  /** The provider's authorization URL (answer 302/303 with it as `Location`). */
  location: string;
  /** `Set-Cookie` values. */
  cookies: string[];
}

/** What `finishLogin` returns: the session to create, and where the browser goes afterwards. */
export interface FinishedLogin {
  /** Input for the adapter's `login()` or `sessions.create()`: user id, roles, `data.oidc`, `authMethods`. */
  session: { userId: string; roles: string[]; data: Record<string, unknown>; authMethods: string[] };
  identity: OidcIdentity;
  /** The validated ID Token claims. */
  claims: IdTokenClaims;
  /** The ID Token itself, for `linkSession` (kept sealed for logout). A credential: never log it. */
  idToken: string | null;
  /** The checked `returnTo` of the login (absolute URL). */
  returnTo: string;
  /** `Set-Cookie` values: the login-state cookie, expired. */
  cookies: string[];
}

export type Oidc = ReturnType<typeof createOidc>;

/**
 * Creates an OpenID Connect relying party over a session manager: login with the authorization
 * code flow (PKCE S256, `state`, `nonce`; openid-client), and OpenID Connect Back-Channel Logout.
 * Framework-free: the Express, Fastify and Hono helpers of `sessionkit/oidc` and the service's
 * routes are thin shells around it.
 *
 * @example
 * const oidc = createOidc({ sessions, issuer: 'https://sso.example.org/realms/main', clientId: 'app',
 *   clientSecret: process.env.OIDC_SECRET, redirectUri: 'https://app.example.org/auth/callback', rolesClaim: 'groups' });
 * const { location, cookies } = await oidc.startLogin({ returnTo: '/account' });
 */
export function createOidc(options: OidcOptions) {
  const opts = resolveOidcOptions(options);
  const { sessions } = opts;
  const provider = providerClient(opts);
  const keys = new Map<string, Promise<Uint8Array>>();

  /** A key for one purpose, derived from the server secret, so every process on the store agrees. */
  function keyFor(purpose: 'oidc-login-state' | 'oidc-logout-state' | 'oidc-id-token'): Promise<Uint8Array> {
    let pending = keys.get(purpose);
    if (!pending) {
      pending = sessions.derivedKey(purpose).catch((err: unknown) => {
        keys.delete(purpose);
        throw err;
      });
      keys.set(purpose, pending);
    }
    return pending;
  }
  const key = () => keyFor('oidc-login-state');
  const logout = rpLogout(opts, provider, keyFor);

  /**
   * Starts a login: checks `returnTo` against the allow-list (`invalid_request` otherwise), makes
   * fresh `state`, `nonce` and PKCE verifier, seals them in the login-state cookie and returns the
   * provider's authorization URL.
   */
  async function startLogin(input: { returnTo?: unknown } = {}): Promise<StartedLogin> {
    const returnTo = checkReturnTo(input.returnTo, opts.returnTo, opts.redirectUri);
    const checks = { state: randomState(), nonce: randomNonce(), codeVerifier: randomPKCECodeVerifier() };
    const url = await provider.authorizationUrl(checks);
    const sealed = await sealLoginState(await key(), opts.clientId, { ...checks, returnTo: returnTo.href }, opts.loginTimeout, sessions.now());
    return { location: url.href, cookies: [loginStateCookie(sealed, opts.loginTimeout, opts.insecureCookies)] };
  }

  /**
   * Finishes a login at the callback: opens the login-state cookie (none, altered or expired:
   * `invalid_request`), lets openid-client check the response and redeem the code, and maps the ID
   * Token to the session to create. Creating it is the caller's (the adapter's `login()`, which
   * revokes the session the browser carried: no fixation); then call `linkSession`.
   *
   * @param request `query`: the callback's query string (`?code=…&state=…`); `headers`: its headers.
   */
  async function finishLogin(request: { query: string; headers: HeaderBag }): Promise<FinishedLogin> {
    const login = await openLoginState(request.headers, opts.insecureCookies, await key(), opts.clientId, sessions.now());
    if (!login) throw new SessionError('invalid_request', 'no OpenID Connect login is in progress in this browser (or it expired): start the login again');
    const { claims, idToken } = await provider.redeem(request.query, login);
    const identity: OidcIdentity = { iss: claims.iss, sub: claims.sub, sid: typeof claims.sid === 'string' && claims.sid.length > 0 ? claims.sid : null };
    const userId = opts.userId(claims);
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) throw new SessionError('invalid_request', 'the ID Token gives no usable user id');
    return {
      session: { userId, roles: rolesFromClaims(claims, opts.roles), data: { [OIDC_DATA_KEY]: identity }, authMethods: ['oidc'] },
      identity, claims, idToken, returnTo: login.returnTo, cookies: [clearLoginStateCookie(opts.insecureCookies)],
    };
  }

  return {
    options: opts,
    startLogin,
    finishLogin,
    /**
     * Indexes a session created by `finishLogin` so a back-channel logout can find it, and keeps
     * the login's ID Token with it, sealed, for the `id_token_hint` of `startLogout`. If the index
     * cannot be written the session is revoked before the error is rethrown: an SSO session the
     * provider could not end must not stay usable.
     */
    async linkSession(session: Session, identity: OidcIdentity, idToken: string | null = null): Promise<void> {
      try {
        const sealed = idToken === null ? null : await sealIdToken(await keyFor('oidc-id-token'), opts.clientId, idToken);
        await linkSession(sessions.store, identity, session.id, session.absoluteExpiresAt.getTime(), sessions.now(), sealed);
      } catch (err) {
        await sessions.revoke(session.id, { reason: 'oidc_link_failed' }).catch(() => false);
        throw err;
      }
    },
    /**
     * Starts an RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) for the session the
     * browser carries (or null): checks `returnTo`, and returns the provider's end-session URL
     * (with `id_token_hint`, `post_logout_redirect_uri` and `state`) and the logout-state cookie.
     * Ending the local session is the caller's (the adapter's `logout()`), after this resolves.
     */
    startLogout: logout.startLogout,
    /**
     * Finishes an RP-initiated logout at `postLogoutRedirectUri`: checks `state` against the
     * logout-state cookie (`invalid_request` otherwise) and returns where to send the browser.
     */
    finishLogout: logout.finishLogout,
    /** The `Set-Cookie` value that drops the logout-state cookie (after a failed return, too). */
    clearLogoutCookie: () => clearLogoutStateCookie(opts.insecureCookies),
    /** The `Set-Cookie` value that drops the login-state cookie (after a failed callback, too). */
    clearLoginCookie: () => clearLoginStateCookie(opts.insecureCookies),
    /**
     * Handles a Back-Channel Logout request's `logout_token`: `{ revoked }` after validation, replay
     * check and revocation; `invalid_request` for any invalid token (answer 400).
     */
    backchannelLogout: backchannelLogout(opts, provider) as (logoutToken: unknown, ctx?: RequestContext) => Promise<{ revoked: number }>,
    /** Runs discovery now (it otherwise runs on first use), e.g. to fail fast at start-up. */
    discover: async (): Promise<void> => {
      await provider.provider();
    },
  };
}
