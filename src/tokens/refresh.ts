/**
 * Refresh tokens: opaque `<prefix>r_<sessionId>.<secret>`, single use, rotated on every refresh.
 * This module is the format only; the family rules over a session record (current, predecessor,
 * reuse) are the core's: src/core/jwt/refresh-family.ts.
 */
import { MAX_TOKEN_LENGTH, type ParsedOpaqueToken } from './opaque.js';

const PART = '[A-Za-z0-9_-]{43}';

/**
 * A parser for `<prefix>r_<id>.<secret>`. The `r` keeps a refresh token from ever parsing as an
 * opaque session token (`<prefix>_`) or a JWT (`eyJ`).
 *
 * @example refreshTokenParser('sk')('skr_<id>.<secret>') // { id, secret }
 */
export function refreshTokenParser(prefix: string): (token: unknown) => ParsedOpaqueToken | null {
  const pattern = new RegExp(`^${prefix}r_(${PART})\\.(${PART})$`);
  return (token) => {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
    const match = pattern.exec(token);
    return match ? { id: match[1] as string, secret: match[2] as string } : null;
  };
}

export function formatRefreshToken(prefix: string, id: string, secret: string): string {
  return `${prefix}r_${id}.${secret}`;
}
