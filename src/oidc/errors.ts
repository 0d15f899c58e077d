import { errorResponse } from '../http/core.js';

/**
 * The OpenID provider could not be reached, answered with a server error, or is configured in a
 * way this relying party cannot use (discovery failed, the signing algorithm is not offered). Not
 * the caller's fault, so not a 4xx: answered 502 `provider_unavailable`.
 *
 * @example if (err instanceof OidcProviderError) log.warn({ err: err.message }, 'SSO provider down')
 */
export class OidcProviderError extends Error {
  readonly code = 'provider_unavailable';
  readonly status = 502;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OidcProviderError';
  }
}

/**
 * `errorResponse` of src/http/core.ts, plus the 502 of `OidcProviderError`.
 *
 * @example const { status, headers, body } = oidcErrorResponse(err)
 */
export function oidcErrorResponse(err: unknown): ReturnType<typeof errorResponse> {
  if (err instanceof OidcProviderError) {
    return {
      status: 502,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
      body: { error: err.code, message: err.message },
    };
  }
  return errorResponse(err);
}
