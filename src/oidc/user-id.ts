import { createHash } from 'node:crypto';
import { SessionError } from '../core/errors.js';
import type { IdTokenClaims } from './options.js';
import { claimValue } from './roles.js';

/** The longest user id the session manager accepts. */
const MAX_USER_ID = 256;

/**
 * The short, fixed-form tag of an issuer in SSO user ids: the first 16 hex digits of SHA-256 of
 * the issuer identifier exactly as it appears in `iss`. A hash, not the host, because two issuers
 * may share a host (Keycloak realms) and a host may hold characters some stores dislike.
 *
 * @example issuerTag('https://sso.example.org/realms/main') // '3f1c…' (16 hex digits)
 */
export function issuerTag(issuer: string): string {
  return createHash('sha256').update(issuer, 'utf8').digest('hex').slice(0, 16);
}

/**
 * The default user id of an SSO login: `oidc:<issuerTag(iss)>:<sub>`. Namespaced by issuer so a
 * provider's `sub` of `alice` never becomes the local user `alice` (whose API-created sessions it
 * could then list and revoke), and two providers' subjects never meet. Exported so operators can
 * compute the id of a provider user (to list or revoke their sessions).
 *
 * @example oidcUserId('https://sso.example.org', 'alice') // 'oidc:9a0e…:alice'
 */
export function oidcUserId(issuer: string, sub: string): string {
  return `oidc:${issuerTag(issuer)}:${sub}`;
}

/**
 * The `userId` mapping for the `userIdClaim` option: the value of that claim (a name, or a dotted
 * path as for `rolesClaim`), used as is, to map SSO logins onto existing user ids (an `email`, an
 * employee number). A login whose ID Token lacks the claim, or carries a non-string, is refused.
 *
 * @example userIdFromClaim('preferred_username')({ iss, sub: 'x', preferred_username: 'alice' }) // 'alice'
 */
export function userIdFromClaim(claim: string): (claims: IdTokenClaims) => string {
  return (claims) => {
    const value = claimValue(claims, claim);
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_USER_ID) {
      throw new SessionError('invalid_request', `the ID Token has no usable "${claim}" claim for the user id (a string of 1 to ${MAX_USER_ID} characters)`);
    }
    return value;
  };
}

/**
 * The default mapping (see `oidcUserId`); a `sub` too long for the namespaced form is refused
 * with a message that names the way out (`userIdClaim` or `userId`).
 */
export function namespacedUserId(claims: IdTokenClaims): string {
  const id = oidcUserId(claims.iss, claims.sub);
  if (id.length > MAX_USER_ID) {
    throw new SessionError('invalid_request', `the ID Token's sub is too long for a namespaced user id (at most ${MAX_USER_ID - 22} characters): map a claim with userIdClaim`);
  }
  return id;
}
