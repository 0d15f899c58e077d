import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatOpaqueToken, hashesEqual, hashSecret, MAX_TOKEN_LENGTH, opaqueTokenParser, tokenFingerprint } from '../../src/tokens/opaque.js';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const part = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url'));
const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/);
const options = { seed: 424242, numRuns: 500 };

describe('opaque tokens', () => {
  it('parses every formatted token back into its id and secret', () => {
    fc.assert(fc.property(prefix, part, part, (p, id, secret) => {
      expect(opaqueTokenParser(p)(formatOpaqueToken(p, id, secret))).toEqual({ id, secret });
    }), options);
  });

  it('parses an arbitrary string only when it is exactly prefix_<43>.<43> in base64url', () => {
    const parse = opaqueTokenParser('sk');
    const wellFormed = (s: string): boolean => s.length === 3 + 43 + 1 + 43 && s.startsWith('sk_') && s[46] === '.'
      && [...s.slice(3, 46) + s.slice(47)].every((c) => BASE64URL.includes(c));
    fc.assert(fc.property(fc.string({ maxLength: 120, unit: 'binary' }), (s) => {
      const parsed = parse(s);
      expect(parsed !== null).toBe(wellFormed(s));
      if (parsed) expect(formatOpaqueToken('sk', parsed.id, parsed.secret)).toBe(s);
    }), options);
  });

  it('rejects every one-character corruption of a valid token that leaves the alphabet or the shape', () => {
    const parse = opaqueTokenParser('sk');
    const foreign = fc.constantFrom('+', '/', '=', '.', ' ', '\n', '\u0000', 'é', '%', '*');
    fc.assert(fc.property(part, part, fc.nat(), foreign, fc.constantFrom('replace', 'insert', 'delete'), (id, secret, at, c, how) => {
      const token = formatOpaqueToken('sk', id, secret);
      const i = at % token.length;
      const mutated = how === 'replace' ? token.slice(0, i) + c + token.slice(i + 1)
        : how === 'insert' ? token.slice(0, i) + c + token.slice(i)
          : token.slice(0, i) + token.slice(i + 1);
      if (mutated === token) return;
      expect(parse(mutated)).toBeNull();
    }), options);
  });

  it('never parses a token of another prefix, a non-string or an oversized string', () => {
    const parse = opaqueTokenParser('sk');
    fc.assert(fc.property(prefix.filter((p) => p !== 'sk'), part, part, (p, id, secret) => parse(formatOpaqueToken(p, id, secret)) === null), options);
    fc.assert(fc.property(fc.anything().filter((v) => typeof v !== 'string'), (v) => parse(v) === null), options);
    expect(parse(`sk_${'A'.repeat(43)}.${'A'.repeat(43)}${' '.repeat(MAX_TOKEN_LENGTH)}`)).toBeNull();
  });

  it('hashes secrets to hex SHA-256, compares them in constant time and fingerprints without the token', () => {
    const secret = randomBytes(32).toString('base64url');
    expect(hashSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashesEqual(hashSecret(secret), hashSecret(secret))).toBe(true);
    expect(hashesEqual(hashSecret(secret), hashSecret(`${secret}x`))).toBe(false);
    expect(hashesEqual(hashSecret(secret), 'abcd')).toBe(false);
    const token = formatOpaqueToken('sk', randomBytes(32).toString('base64url'), secret);
    expect(tokenFingerprint(token)).toMatch(/^[0-9a-f]{12}$/);
    expect(tokenFingerprint(token)).not.toContain(secret.slice(0, 6));
    expect(tokenFingerprint('')).toBeNull();
    expect(tokenFingerprint(42)).toBeNull();
  });
});
