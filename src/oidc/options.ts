import { parseDuration, type Duration } from '../core/duration.js';
import { SessionError } from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import { parseReturnToList } from './return-to.js';
import { parseRoleMapping, type RoleMapping } from './roles.js';
import { namespacedUserId, userIdFromClaim } from './user-id.js';

/** The claims of a validated ID Token, as openid-client returns them. */
export type IdTokenClaims = Record<string, unknown> & { iss: string; sub: string; aud: string | string[]; sid?: string };

/** What `createOidc` takes. Checked once, when the relying party is built. */
export interface OidcOptions {
  /** The session manager whose sessions a login creates and a back-channel logout revokes. */
  sessions: SessionManager;
  /** The provider's issuer identifier, e.g. `https://sso.example.org/realms/main` (discovery is read from it). */
  issuer: string;
  clientId: string;
  /** The client secret (`client_secret_basic`); without it the client is public (PKCE only). Never logged. */
  clientSecret?: string | undefined;
  /** This app's callback URL, registered at the provider, e.g. `https://app.example.org/auth/callback`. */
  redirectUri: string;
  /** Scopes to ask for. Default `'openid'`; it must contain `openid`. */
  scope?: string;
  /**
   * The ID Token claim that carries the user's roles: a claim name (`groups`,
   * `https://example.org/roles`) or a dotted path (`realm_access.roles`). Default: none (no roles).
   */
  rolesClaim?: string;
  /**
   * Provider values to sessionkit roles, e.g. `{ 'sso-admins': 'admin' }`. With a map, only mapped
   * values become roles; without one, the claim's values are the roles.
   */
  roleMap?: Record<string, string | string[]>;
  /**
   * Where a login may return to: absolute URLs or paths (resolved against `redirectUri`). An entry
   * ending in `/` allows every path below it; others allow that path only. The first entry is the
   * default target. Default: `['/']` (any path on the callback's origin).
   */
  returnTo?: string[];
  /**
   * Where the provider sends the browser back after an RP-initiated logout: this app's logout
   * callback (the `logoutCallback` helper's route), registered at the provider as a
   * `post_logout_redirect_uri`. Without it, logout ends at the provider's own signed-out page.
   */
  postLogoutRedirectUri?: string;
  /**
   * Map SSO logins onto existing user ids: the ID Token claim (a name, or a dotted path) whose
   * string value is the user id, e.g. `email` or `preferred_username`. Only for a claim the
   * provider guarantees unique and not user-editable. Default: none (see `userId`).
   */
  userIdClaim?: string;
  /**
   * The session's user id from the ID Token claims. Default (without `userIdClaim`):
   * `oidc:<first 16 hex digits of SHA-256(iss)>:<sub>` (`oidcUserId(iss, sub)`), namespaced by
   * issuer so a provider's `sub` never names a user created through the API.
   */
  userId?: (claims: IdTokenClaims) => string;
  /** The ID Token (and so Logout Token) signing algorithm registered for the client. Default `'RS256'`. */
  idTokenSigningAlg?: string;
  /**
   * Accept Logout Tokens without `typ: logout+jwt` (a missing `typ`, or `JWT`), for providers that do
   * not type them yet. Any other `typ` is still refused. Default false.
   */
  acceptUntypedLogoutTokens?: boolean;
  /** How long a started login may take (the login-state cookie's lifetime). Default `'10m'`. */
  loginTimeout?: Duration;
  /** Clock skew allowed on `iat` and `exp` of Logout Tokens. Default `'30s'`. */
  clockTolerance?: Duration;
  /** Plain-HTTP development: the login-state cookie without `Secure` and `__Host-`. Default false. */
  insecureCookies?: boolean;
  /**
   * Allow an `http://` issuer. Honoured only for loopback hosts (127.0.0.1, ::1, localhost), for
   * tests and local development; any other `http://` issuer is refused.
   */
  allowInsecureRequests?: boolean;
}

/** Options after checking: what the rest of src/oidc works with. */
export interface ResolvedOidcOptions {
  sessions: SessionManager;
  issuer: URL;
  clientId: string;
  clientSecret: string | null;
  redirectUri: URL;
  postLogoutRedirectUri: URL | null;
  scope: string;
  roles: RoleMapping;
  returnTo: URL[];
  userId: (claims: IdTokenClaims) => string;
  idTokenSigningAlg: string;
  acceptUntypedLogoutTokens: boolean;
  loginTimeout: number;
  clockTolerance: number;
  insecureCookies: boolean;
  insecureIssuer: boolean;
}

/** Asymmetric JWS algorithms only: a Logout Token must be verifiable with the provider's public keys. */
const SIGNING_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

function invalid(message: string): SessionError {
  return new SessionError('invalid_request', `createOidc: ${message}`);
}

function httpUrl(value: unknown, name: string): URL {
  let url: URL;
  try {
    if (typeof value !== 'string') throw new Error('not a string');
    url = new URL(value);
  } catch {
    throw invalid(`option ${name}: expected an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`option ${name}: expected an absolute http(s) URL`);
  if (url.username || url.password) throw invalid(`option ${name}: must not carry credentials`);
  return url;
}

function nonEmpty(value: unknown, name: string, max = 1024): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw invalid(`option ${name}: expected a non-empty string of up to ${max} characters`);
  return value;
}

/**
 * Checks the options of `createOidc` and fills in the defaults; throws `invalid_request` naming
 * the bad option. An `http://` issuer is accepted only on loopback with `allowInsecureRequests`.
 *
 * @example resolveOidcOptions({ sessions, issuer: 'https://sso.example.org', clientId: 'app', redirectUri: 'https://app.example.org/cb' })
 */
export function resolveOidcOptions(options: OidcOptions): ResolvedOidcOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options are required');
  const { sessions } = options;
  if (!sessions || typeof sessions.create !== 'function') throw invalid('option sessions is required (createSessionManager({ store }))');
  const issuer = httpUrl(options.issuer, 'issuer');
  const insecureIssuer = issuer.protocol === 'http:';
  if (insecureIssuer && !(options.allowInsecureRequests === true && LOOPBACK.has(issuer.hostname))) {
    throw invalid('option issuer: must be https:// (http:// only on a loopback host with allowInsecureRequests)');
  }
  const clientId = nonEmpty(options.clientId, 'clientId');
  const clientSecret = options.clientSecret === undefined || options.clientSecret === null ? null : nonEmpty(options.clientSecret, 'clientSecret', 4096);
  const redirectUri = httpUrl(options.redirectUri, 'redirectUri');
  if (redirectUri.hash) throw invalid('option redirectUri: must not have a fragment');
  const postLogoutRedirectUri = options.postLogoutRedirectUri === undefined || options.postLogoutRedirectUri === null ? null : httpUrl(options.postLogoutRedirectUri, 'postLogoutRedirectUri');
  if (postLogoutRedirectUri?.hash) throw invalid('option postLogoutRedirectUri: must not have a fragment');
  const scope = options.scope ?? 'openid';
  if (typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scope) || !scope.split(' ').includes('openid')) {
    throw invalid("option scope: expected space-separated scopes including 'openid'");
  }
  const roles = parseRoleMapping(options.rolesClaim, options.roleMap);
  const returnTo = parseReturnToList(options.returnTo ?? ['/'], redirectUri);
  if (options.userIdClaim !== undefined && (typeof options.userIdClaim !== 'string' || options.userIdClaim.length === 0 || options.userIdClaim.length > 256)) {
    throw invalid('option userIdClaim: expected a claim name or a dotted path');
  }
  if (options.userIdClaim !== undefined && options.userId !== undefined) throw invalid('options userId and userIdClaim: give one of them');
  const userId = options.userId ?? (options.userIdClaim !== undefined ? userIdFromClaim(options.userIdClaim) : namespacedUserId);
  if (typeof userId !== 'function') throw invalid('option userId: expected a function (claims) => string');
  const idTokenSigningAlg = options.idTokenSigningAlg ?? 'RS256';
  if (!SIGNING_ALGS.has(idTokenSigningAlg)) throw invalid(`option idTokenSigningAlg: expected one of ${[...SIGNING_ALGS].join(', ')}`);
  const loginTimeout = parseDuration(options.loginTimeout ?? '10m', 'loginTimeout');
  if (loginTimeout < 10_000 || loginTimeout > 3_600_000) throw invalid('option loginTimeout: between 10s and 1h');
  const clockTolerance = parseDuration(options.clockTolerance ?? '30s', 'clockTolerance');
  if (clockTolerance > 300_000) throw invalid('option clockTolerance: at most 5m');
  return {
    sessions, issuer, clientId, clientSecret, redirectUri, postLogoutRedirectUri, scope, roles, returnTo, userId, idTokenSigningAlg,
    acceptUntypedLogoutTokens: options.acceptUntypedLogoutTokens === true, loginTimeout, clockTolerance,
    insecureCookies: options.insecureCookies === true, insecureIssuer,
  };
}
