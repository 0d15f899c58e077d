import { createHash, timingSafeEqual } from 'node:crypto';

/** Longest token accepted for parsing; anything longer is malformed without further work. */
export const MAX_TOKEN_LENGTH = 4096;

const PART = '[A-Za-z0-9_-]{43}';

export interface ParsedOpaqueToken {
  id: string;
  secret: string;
}

/** A parser for `<prefix>_<id>.<secret>` tokens, each part base64url of 32 bytes. */
export function opaqueTokenParser(prefix: string): (token: unknown) => ParsedOpaqueToken | null {
  const pattern = new RegExp(`^${prefix}_(${PART})\\.(${PART})$`);
  return (token) => {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
    const match = pattern.exec(token);
    return match ? { id: match[1] as string, secret: match[2] as string } : null;
  };
}

export function formatOpaqueToken(prefix: string, id: string, secret: string): string {
  return `${prefix}_${id}.${secret}`;
}

/** SHA-256 of a secret, hex: what stores keep instead of the secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** A short, non-reversible fingerprint of any presented token, for audit and logs. */
export function tokenFingerprint(token: unknown): string | null {
  if (typeof token !== 'string' || token.length === 0) return null;
  return createHash('sha256').update(token.slice(0, MAX_TOKEN_LENGTH)).digest('hex').slice(0, 12);
}
