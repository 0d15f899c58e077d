import { randomState } from 'openid-client';
import { SessionError } from '../core/errors.js';
import type { Session } from '../core/types.js';
import type { HeaderBag } from '../http/core.js';
import type { ProviderClient } from './client.js';
import { openIdToken } from './id-token.js';
import { checkLogoutReturn, clearLogoutStateCookie, logoutStateCookie, sealLogoutState } from './logout-state.js';
import type { ResolvedOidcOptions } from './options.js';
import { checkReturnTo } from './return-to.js';
import { identityOf, sealedIdTokenOf, unlinkSession } from './session-index.js';

/** What `startLogout` returns: where to send the browser, and the logout-state cookie to set. */
export interface StartedLogout {
  /** The provider's `end_session_endpoint` URL (answer 303 with it as `Location`). */
  location: string;
  /** `Set-Cookie` values (none without `postLogoutRedirectUri`). */
  cookies: string[];
}

/** What `finishLogout` returns: the checked target and the cookie that clears the logout state. */
export interface FinishedLogout {
  returnTo: string;
  cookies: string[];
}

type KeyFor = (purpose: 'oidc-logout-state' | 'oidc-id-token') => Promise<Uint8Array>;

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) of a relying party: the start
 * (end-session URL with `id_token_hint`, `post_logout_redirect_uri` and `state`; a sealed
 * logout-state cookie) and the return (the `state` checked against that cookie, then the
 * allow-listed `returnTo`). Used through `createOidc`'s `startLogout` / `finishLogout`.
 *
 * @example const { startLogout, finishLogout } = rpLogout(opts, provider, keyFor)
 */
export function rpLogout(opts: ResolvedOidcOptions, provider: ProviderClient, keyFor: KeyFor) {
  /** The ID Token kept at login for this session, or null; its index entries are dropped (the session is ending). */
  async function takeIdToken(session: Session | null): Promise<string | null> {
    const identity = session ? identityOf(session.data) : null;
    if (!session || !identity) return null;
    const sealed = await sealedIdTokenOf(opts.sessions.store, identity, session.id);
    await unlinkSession(opts.sessions.store, identity, session.id);
    return sealed === null ? null : openIdToken(await keyFor('oidc-id-token'), opts.clientId, sealed);
  }

  async function startLogout(input: { session: Session | null; returnTo?: unknown }): Promise<StartedLogout> {
    // Checked first: a refused returnTo must leave the session and the index as they were.
    const returnTo = checkReturnTo(input.returnTo, opts.returnTo, opts.redirectUri);
    const idTokenHint = await takeIdToken(input.session);
    if (opts.postLogoutRedirectUri === null) {
      const url = await provider.endSessionUrl({ idTokenHint, postLogoutRedirectUri: null, state: null });
      return { location: url.href, cookies: [] };
    }
    const state = randomState();
    const url = await provider.endSessionUrl({ idTokenHint, postLogoutRedirectUri: opts.postLogoutRedirectUri.href, state });
    const sealed = await sealLogoutState(await keyFor('oidc-logout-state'), opts.clientId, { state, returnTo: returnTo.href }, opts.loginTimeout, opts.sessions.now());
    return { location: url.href, cookies: [logoutStateCookie(sealed, opts.loginTimeout, opts.insecureCookies)] };
  }

  async function finishLogout(request: { query: string; headers: HeaderBag }): Promise<FinishedLogout> {
    const state = new URLSearchParams(request.query).get('state');
    const target = await checkLogoutReturn(request.headers, state, opts.insecureCookies, await keyFor('oidc-logout-state'), opts.clientId, opts.sessions.now());
    if (target === null) throw new SessionError('invalid_request', 'no logout is in progress in this browser, or its state does not match: the return from the provider was refused');
    // Checked again: the allow-list may have changed since the logout started.
    const returnTo = checkReturnTo(target, opts.returnTo, opts.redirectUri);
    return { returnTo: returnTo.href, cookies: [clearLogoutStateCookie(opts.insecureCookies)] };
  }

  return { startLogout, finishLogout };
}

/**
 * The order every logout helper follows: start the provider logout (a refused `returnTo` is a 400
 * that leaves the session alone), then end the local session; if the provider part fails for any
 * other reason (provider down, store error) the local session is still ended before the error is
 * reported, so a user who asked to sign out is never left signed in here.
 *
 * @example const started = await logoutThroughProvider(oidc.startLogout, { session, returnTo }, () => logout(res))
 */
export async function logoutThroughProvider(
  startLogout: (input: { session: Session | null; returnTo?: unknown }) => Promise<StartedLogout>,
  input: { session: Session | null; returnTo?: unknown },
  endLocalSession: () => Promise<unknown>,
): Promise<StartedLogout> {
  let started: StartedLogout;
  try {
    started = await startLogout(input);
  } catch (err) {
    if (!(err instanceof SessionError && err.code === 'invalid_request')) await endLocalSession().catch(() => false);
    throw err;
  }
  await endLocalSession();
  return started;
}

/**
 * True when the caller asked for JSON rather than a page (`Accept` names `application/json` and
 * not `text/html`): a script that sent `X-CSRF-Token` with `fetch` then gets `200 { location }`
 * and navigates itself, since `fetch` cannot follow a redirect to another origin as a navigation.
 *
 * @example wantsJson('application/json') // true
 */
export function wantsJson(accept: string | string[] | undefined): boolean {
  const value = Array.isArray(accept) ? accept.join(',') : accept ?? '';
  return /application\/json/i.test(value) && !/text\/html/i.test(value);
}
