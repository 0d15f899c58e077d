import * as client from 'openid-client';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { SessionError } from '../core/errors.js';
import { OidcProviderError } from './errors.js';
import type { IdTokenClaims, ResolvedOidcOptions } from './options.js';

/** The provider as this relying party sees it after discovery. */
export interface ProviderHandle {
  config: client.Configuration;
  /** The provider's signing keys (`jwks_uri`), fetched and cached by jose. */
  jwks: JWTVerifyGetKey;
  /** The issuer identifier as the provider states it (the `iss` of its tokens). */
  issuer: string;
}

/** Failures that are the provider's (down, slow, a 5xx, not JSON), not the browser's. */
const UNAVAILABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON']);
const SAFE_ERROR_CODE = /^[\w.-]{1,64}$/;

/**
 * Discovery, authorization URLs and the code exchange with openid-client. Discovery runs on first
 * use and again after a failure, so a provider that is down at start-up does not need a restart.
 *
 * @example const provider = providerClient(options); const url = await provider.authorizationUrl({ ... })
 */
export function providerClient(opts: ResolvedOidcOptions) {
  let handle: Promise<ProviderHandle> | null = null;

  async function discover(): Promise<ProviderHandle> {
    let config: client.Configuration;
    try {
      config = await client.discovery(
        opts.issuer, opts.clientId,
        { id_token_signed_response_alg: opts.idTokenSigningAlg },
        opts.clientSecret === null ? client.None() : client.ClientSecretBasic(opts.clientSecret),
        { execute: opts.insecureIssuer ? [client.allowInsecureRequests] : [], timeout: 10 },
      );
    } catch (err) {
      throw new OidcProviderError(`OpenID provider discovery failed: ${describe(err)}`, { cause: err });
    }
    const metadata = config.serverMetadata();
    const offered = metadata.id_token_signing_alg_values_supported;
    if (Array.isArray(offered) && !offered.includes(opts.idTokenSigningAlg)) {
      throw new OidcProviderError(`the OpenID provider does not offer ${opts.idTokenSigningAlg} ID Tokens (it offers ${offered.join(', ')})`);
    }
    if (!metadata.jwks_uri) throw new OidcProviderError('the OpenID provider publishes no jwks_uri');
    return { config, jwks: createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 10_000 }), issuer: metadata.issuer };
  }

  /** The discovered provider; a failed discovery is forgotten so the next call tries again. */
  function provider(): Promise<ProviderHandle> {
    handle ??= discover().catch((err: unknown) => {
      handle = null;
      throw err;
    });
    return handle;
  }

  /** The URL that sends the browser to the provider: code flow with PKCE (S256), `state` and `nonce`. */
  async function authorizationUrl(checks: { state: string; nonce: string; codeVerifier: string }): Promise<URL> {
    const { config } = await provider();
    return client.buildAuthorizationUrl(config, {
      redirect_uri: opts.redirectUri.href, scope: opts.scope, response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier), code_challenge_method: 'S256',
      state: checks.state, nonce: checks.nonce,
    });
  }

  /**
   * Checks the authorization response (state, `iss` when the provider sends it, errors), redeems
   * the code with the PKCE verifier and validates the ID Token (signature, `iss`, `aud`, `exp`,
   * `iat`, `nonce`). The current URL is the configured redirect URI with the request's query, so a
   * forged Host header changes nothing.
   */
  async function redeem(query: string, checks: { state: string; nonce: string; codeVerifier: string }): Promise<{ claims: IdTokenClaims; idToken: string | null }> {
    const { config } = await provider();
    const current = new URL(opts.redirectUri.href);
    current.search = query;
    let claims: IdTokenClaims | undefined;
    let idToken: string | null = null;
    try {
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true,
      });
      claims = tokens.claims() as IdTokenClaims | undefined;
      idToken = typeof tokens.id_token === 'string' ? tokens.id_token : null;
    } catch (err) {
      if (err instanceof client.AuthorizationResponseError) {
        throw new SessionError('invalid_request', `the OpenID provider did not log the user in: ${safeCode(err.error)}`);
      }
      if (err instanceof client.ResponseBodyError) {
        if (err.status >= 500) throw new OidcProviderError(`the OpenID provider's token endpoint failed (${err.status})`, { cause: err });
        throw new SessionError('invalid_request', `the OpenID provider refused the authorization code: ${safeCode(err.error)}`);
      }
      if (err instanceof TypeError || (err instanceof client.ClientError && UNAVAILABLE_CODES.has(err.code ?? ''))) {
        throw new OidcProviderError(`the OpenID provider could not be reached: ${describe(err)}`, { cause: err });
      }
      throw new SessionError('invalid_request', `the OpenID provider's response failed validation: ${describe(err)}`);
    }
    if (!claims || typeof claims.sub !== 'string' || claims.sub.length === 0) throw new SessionError('invalid_request', 'the OpenID provider returned no ID Token subject');
    return { claims, idToken };
  }

  /**
   * The provider's RP-Initiated Logout URL (`end_session_endpoint`) with `client_id`, the
   * `id_token_hint` when there is one, and `post_logout_redirect_uri` + `state` when a return is
   * configured. A provider that publishes no `end_session_endpoint` is an `OidcProviderError`.
   */
  async function endSessionUrl(params: { idTokenHint: string | null; postLogoutRedirectUri: string | null; state: string | null }): Promise<URL> {
    const { config } = await provider();
    if (!config.serverMetadata().end_session_endpoint) {
      throw new OidcProviderError('the OpenID provider publishes no end_session_endpoint (RP-Initiated Logout): the local session ended, the provider\'s did not');
    }
    const query: Record<string, string> = {};
    if (params.idTokenHint !== null) query.id_token_hint = params.idTokenHint;
    if (params.postLogoutRedirectUri !== null) query.post_logout_redirect_uri = params.postLogoutRedirectUri;
    if (params.state !== null) query.state = params.state;
    return client.buildEndSessionUrl(config, query);
  }

  return { provider, authorizationUrl, redeem, endSessionUrl };
}

export type ProviderClient = ReturnType<typeof providerClient>;

function safeCode(code: unknown): string {
  return typeof code === 'string' && SAFE_ERROR_CODE.test(code) ? code : 'error';
}

/** A short, single-line description of a failure: its code and message, never a token. */
function describe(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  // eslint-disable-next-line no-control-regex
  return `${typeof code === 'string' ? `${code}: ` : ''}${message}`.replace(/[\u0000-\u001f]+/g, ' ').slice(0, 200);
}
