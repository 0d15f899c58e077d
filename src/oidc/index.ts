/**
 * `sessionkit/oidc`: single sign-on with OpenID Connect. `createOidc` is the framework-free relying
 * party (login with the authorization code flow and PKCE, RP-Initiated Logout 1.0, Back-Channel
 * Logout 1.0); `oidcExpress`, `oidcFastify` and `oidcHono` put it on an app that already runs the
 * sessionkit adapter.
 * docs/SSO.md shows provider set-ups and role mapping.
 */
export { createOidc } from './relying-party.js';
export type { Oidc, StartedLogin, FinishedLogin } from './relying-party.js';
export type { StartedLogout, FinishedLogout } from './rp-logout.js';
export type { OidcOptions, IdTokenClaims } from './options.js';
export { OidcProviderError, oidcErrorResponse } from './errors.js';
export { verifyLogoutToken, BACKCHANNEL_LOGOUT_EVENT } from './logout-token.js';
export type { LogoutTokenClaims, LogoutTokenCheck } from './logout-token.js';
export { identityOf, OIDC_DATA_KEY } from './session-index.js';
export type { OidcIdentity } from './session-index.js';
export { logoutTokenFromBody, backchannelResponse } from './form.js';
export { checkReturnTo } from './return-to.js';
export { rolesFromClaims } from './roles.js';
export { oidcUserId, issuerTag } from './user-id.js';
export { oidcExpress } from './express.js';
export type { ExpressOidcHandlers } from './express.js';
export { oidcFastify } from './fastify.js';
export type { FastifyOidcOptions } from './fastify.js';
export { oidcHono } from './hono.js';
export type { HonoOidcHandlers } from './hono.js';
