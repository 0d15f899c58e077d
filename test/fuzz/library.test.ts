// Fuzzing the library functions directly: token validation (opaque, refresh, JWT), the HTTP
// helpers that read cookies, Authorization, X-Forwarded-For and Origin, and the user-agent
// parser. Properties: only SessionErrors with their documented codes come out, never another
// exception; no input but a session's own token makes it validate.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDevice } from '../../src/core/device.js';
import { SessionError, TOKEN_ERROR_CODES } from '../../src/core/errors.js';
import { createSessionManager, type SessionManager } from '../../src/core/manager.js';
import { checkOrigin, clientIp, extractToken, normalizeOrigin } from '../../src/http/core.js';
import { memoryStore } from '../../src/stores/memory.js';
import { anyText, forwardedFor, fuzz, mutated, TIMEOUT, tokenLike, userAgent } from './harness.js';

/** Rejected with a token error (401), or resolved: nothing else may come out. */
async function outcome(work: Promise<{ id: string }>): Promise<{ ok: true; id: string } | { ok: false; code: string }> {
  try {
    return { ok: true, id: (await work).id };
  } catch (err) {
    if (!(err instanceof SessionError)) throw new Error(`not a SessionError: ${String(err)}`);
    if (!TOKEN_ERROR_CODES.has(err.code)) throw new Error(`unexpected code ${err.code} (${err.message})`);
    return { ok: false, code: err.code };
  }
}

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('fuzzing the library', () => {
  let sessions: SessionManager;
  const issued = {} as {
    a: { token: string; id: string }; b: { token: string; id: string };
    jwt: { access: string; refresh: string; id: string };
    other: { access: string; id: string };
  };
  let kid: string;
  let publicPem: string;
  let publicDer: Buffer;
  const attacker = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    sessions = createSessionManager({
      store: memoryStore(), secret: 'fuzz-library-secret-0123456789abcdef0123',
      masterKey: Buffer.alloc(32, 7), jwt: { issuer: 'https://fuzz.example', audience: 'fuzz-api' },
    });
    const a = await sessions.create({ userId: 'fuzz-alice' });
    const b = await sessions.create({ userId: 'fuzz-bob' });
    const j = await sessions.create({ userId: 'fuzz-carol', tokenType: 'jwt' });
    const o = await sessions.create({ userId: 'fuzz-dave', tokenType: 'jwt' });
    issued.a = { token: a.token, id: a.session.id };
    issued.b = { token: b.token, id: b.session.id };
    issued.jwt = { access: j.accessToken, refresh: j.refreshToken, id: j.session.id };
    issued.other = { access: o.accessToken, id: o.session.id };
    kid = (JSON.parse(Buffer.from(j.accessToken.split('.')[0] as string, 'base64url').toString()) as { kid: string }).kid;
    const jwks = await sessions.keys.jwks() as { keys: { kid: string }[] };
    const { createPublicKey } = await import('node:crypto');
    const jwk = jwks.keys.find((k) => k.kid === kid)!;
    const pub = createPublicKey({ key: jwk as never, format: 'jwk' });
    publicPem = pub.export({ type: 'spki', format: 'pem' }) as string;
    publicDer = pub.export({ type: 'spki', format: 'der' });
  });
  afterAll(async () => {
    await sessions.close();
  });

  /** The session a string is the exact token of, if any. */
  function ownerOf(token: string): string | null {
    if (token === issued.a.token) return issued.a.id;
    if (token === issued.b.token) return issued.b.id;
    if (token === issued.jwt.access) return issued.jwt.id;
    if (token === issued.other.access) return issued.other.id;
    return null;
  }

  it('makes tokens of 256 random bits per part (CSPRNG), never repeating, with balanced bits', async () => {
    const store = memoryStore();
    const many = createSessionManager({ store, secret: 'fuzz-entropy-secret-0123456789abcdef0123' });
    const ids = new Set<string>();
    const secrets = new Set<string>();
    let ones = 0;
    const n = 1000;
    for (let i = 0; i < n; i += 1) {
      const { token } = await many.create({ userId: `entropy-${i % 50}` });
      expect(token).toMatch(/^sk_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      const [id, secret] = token.slice(3).split('.') as [string, string];
      const bytes = Buffer.from(secret, 'base64url');
      expect(bytes).toHaveLength(32);
      for (const b of bytes) for (let bit = 0; bit < 8; bit += 1) ones += (b >> bit) & 1;
      ids.add(id);
      secrets.add(secret);
    }
    expect(ids.size).toBe(n);
    expect(secrets.size).toBe(n);
    // 256,000 random bits: the count of ones is within 6 standard deviations (about 1,520) of half.
    expect(Math.abs(ones - n * 128)).toBeLessThan(1520);
    await many.close();
  });

  it('opaque tokens: any string, any edit of a real token and spliced halves of two tokens validate only as themselves', async () => {
    const [prefixA, secretA] = [issued.a.token.slice(0, issued.a.token.indexOf('.')), issued.a.token.slice(issued.a.token.indexOf('.') + 1)];
    const [prefixB, secretB] = [issued.b.token.slice(0, issued.b.token.indexOf('.')), issued.b.token.slice(issued.b.token.indexOf('.') + 1)];
    const candidates = fc.oneof(
      tokenLike,
      mutated(issued.a.token),
      mutated(issued.b.token),
      fc.constantFrom(`${prefixA}.${secretB}`, `${prefixB}.${secretA}`, `${prefixA}.${secretA.toUpperCase()}`, `${issued.a.token}.${secretB}`),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((secret) => `${prefixA}.${secret}`),
    );
    await fuzz('opaque tokens (library validate)', fc.asyncProperty(candidates, async (token) => {
      const result = await outcome(sessions.validate(token));
      if (result.ok) expect(result.id, `validated ${JSON.stringify(token)}`).toBe(ownerOf(token));
    }));
  }, TIMEOUT);

  it('refresh tokens: edits of a real refresh token and token-like strings never refresh', async () => {
    const candidates = fc.oneof(tokenLike, mutated(issued.jwt.refresh), mutated(issued.a.token).map((t) => t.replace(/^sk_/, 'skr_')))
      .filter((t) => t !== issued.jwt.refresh);
    await fuzz('refresh tokens (library refresh)', fc.asyncProperty(candidates, async (token) => {
      const result = await outcome(sessions.refresh(token).then((r) => r.session));
      expect(result.ok, `refreshed with ${JSON.stringify(token)}`).toBe(false);
    }));
  }, TIMEOUT);

  it('JWT access tokens: forged headers, claims and signatures never validate', async () => {
    const [h0, p0, s0] = issued.jwt.access.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p0, 'base64url').toString()) as Record<string, unknown>;
    const otherClaims = JSON.parse(Buffer.from(issued.other.access.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    const header = fc.record({
      alg: fc.oneof(fc.constantFrom('EdDSA', 'none', 'None', 'HS256', 'RS256', 'ES256', 'eddsa', 'Ed25519', ''), anyText(10)),
      kid: fc.oneof(fc.constant(kid), fc.constant(`${kid} `), fc.constantFrom('', '../../dev/null', "' OR 1=1 --", 'x'.repeat(100)), anyText(20)),
      typ: fc.constantFrom('at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT', undefined),
      extra: fc.constantFrom({}, { crit: ['exp'] }, { jku: 'http://127.0.0.1:1/jwks' }, { jwk: attacker.publicKey.export({ format: 'jwk' }) }, { x5u: 'http://127.0.0.1:1/x' }, { b64: false }),
    }).map(({ extra, ...h }) => ({ ...Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)), ...extra }));
    const payload = fc.record({
      base: fc.constantFrom(claims, otherClaims),
      change: fc.constantFrom<Record<string, unknown>>(
        {}, { sub: 'fuzz-dave' }, { sid: issued.other.id }, { sid: issued.a.id }, { exp: 4_102_444_800 }, { exp: undefined },
        { iss: 'https://evil.example' }, { aud: ['fuzz-api', 'x'] }, { aud: 'other' }, { roles: ['admin'] }, { nbf: 0 }, { iat: 4_102_444_800 },
        { events: { 'http://schemas.openid.net/event/backchannel-logout': {} } },
      ),
    }).map(({ base, change }) => JSON.parse(JSON.stringify({ ...base, ...change })) as Record<string, unknown>);
    const signature = fc.constantFrom('ours', 'attacker', 'hmac-pem', 'hmac-der', 'empty', 'random', 'other-token');
    const forged = fc.oneof(
      fc.tuple(header, payload, signature, fc.uint8Array({ minLength: 64, maxLength: 64 })).map(([h, p, sig, random]) => {
        const input = `${b64(h)}.${b64(p)}`;
        const signed = sig === 'ours' ? s0
          : sig === 'attacker' ? sign(null, Buffer.from(input), attacker.privateKey).toString('base64url')
            : sig === 'hmac-pem' ? createHmac('sha256', publicPem).update(input).digest('base64url')
              : sig === 'hmac-der' ? createHmac('sha256', publicDer).update(input).digest('base64url')
                : sig === 'empty' ? ''
                  : sig === 'other-token' ? issued.other.access.split('.')[2] as string
                    : Buffer.from(random).toString('base64url');
        return `${input}.${signed}`;
      }),
      mutated(issued.jwt.access),
      fc.constantFrom(`${h0}.${p0}`, `${h0}.${p0}.`, `${h0}.${issued.other.access.split('.')[1]}.${s0}`, `${h0}.${p0}.${s0}=`, `${h0}.${p0}.${s0}.${s0}`),
      fc.tuple(anyText(80), anyText(80)).map(([x, y]) => `eyJ${x}.${y}`),
    );
    await fuzz('JWT access tokens (library validate)', fc.asyncProperty(forged, async (token) => {
      const result = await outcome(sessions.validate(token));
      if (result.ok) expect(result.id, `validated ${JSON.stringify(token)}`).toBe(ownerOf(token));
    }));
  }, TIMEOUT);

  it('Cookie headers: only SessionErrors come out, and the session cookie is found among any other cookies', async () => {
    const noOurs = anyText(200).filter((s) => !s.toLowerCase().includes('sessionkit'));
    await fuzz('cookie headers (extractToken)', fc.property(anyText(300), noOurs, noOurs, (junk, before, after) => {
      for (const cookie of [junk, `sessionkit=${junk}`, `a=1; sessionkit=${junk}`]) {
        try {
          const { token, source } = extractToken({ cookie }, { insecureCookies: true });
          expect(token === null || typeof token === 'string').toBe(true);
          if (token !== null) expect(source).toBe('cookie');
        } catch (err) {
          expect(err).toBeInstanceOf(SessionError);
        }
      }
      // The real cookie after anything that is not ours (a cookie value cannot hold ';', so cut there).
      const prefix = before.replace(/;.*$/s, '');
      const { token } = extractToken({ cookie: `${prefix}; sessionkit=${issued.a.token}; ${after}` }, { insecureCookies: true });
      expect(token).toBe(issued.a.token);
    }));
  }, TIMEOUT);

  it('Authorization headers: only SessionErrors come out, and Bearer <token> yields exactly the token', async () => {
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr');
    const space = fc.constantFrom(' ', '  ', '\t', ' \t ');
    await fuzz('Authorization headers (extractToken)', fc.property(anyText(300), scheme, space, tokenLike, (junk, s, sp, t) => {
      for (const authorization of [junk, `${s}${sp}${junk}`, `${s}${sp}${t}`, `Basic ${junk}`, `${s}`]) {
        try {
          const { token, source } = extractToken({ authorization }, {});
          if (token !== null) {
            expect(source).toBe('bearer');
            expect(token.length).toBeGreaterThan(0);
            expect(token.length).toBeLessThanOrEqual(4096);
            expect(authorization).toContain(token);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(SessionError);
          // An empty Bearer presents no token: token_missing (issue 18).
          expect(['token_malformed', 'token_missing', 'invalid_request']).toContain((err as SessionError).code);
        }
      }
      expect(extractToken({ authorization: `${s}${sp}${issued.a.token}${sp}` }, {}).token).toBe(issued.a.token);
    }));
  }, TIMEOUT);

  it('X-Forwarded-For: the client IP is always an IP address or null, and ignored without trustProxy', async () => {
    await fuzz('X-Forwarded-For (clientIp)', fc.property(forwardedFor, fc.oneof(fc.ipV4(), fc.ipV6(), anyText(30)), fc.constantFrom<boolean | number>(true, false, 0, 1, 2, 3, 100, -1, 1.5), (xff, remote, trust) => {
      const ip = clientIp(remote, { 'x-forwarded-for': xff }, trust);
      if (ip !== null) expect(isIP(ip), `${JSON.stringify(xff)} gave ${ip}`).toBeGreaterThan(0);
      expect(clientIp(remote, { 'x-forwarded-for': xff }, false)).toBe(clientIp(remote, {}, false));
    }));
  }, TIMEOUT);

  it('Origin headers: a write passes the origin check only from an allowed origin', async () => {
    const origin = fc.oneof(anyText(100), fc.webUrl().map((u) => new URL(u).origin), fc.constantFrom('https://app.example.org', 'https://app.example.org.evil.com', 'null', 'https://APP.example.org', 'https://app.example.org:443'));
    await fuzz('Origin and Sec-Fetch-Site headers (checkOrigin)', fc.property(origin, fc.option(anyText(20)), (o, site) => {
      const passed = checkOrigin({ origin: o, ...(site !== null ? { 'sec-fetch-site': site } : {}) }, ['https://app.example.org']);
      if (passed) expect(normalizeOrigin(o.trim())).toBe('https://app.example.org');
    }));
  }, TIMEOUT);

  it('user agents: any user agent gives a bounded device record and never an exception', async () => {
    await fuzz('user agents (parseDevice)', fc.property(userAgent, fc.option(anyText(100)), (ua, ip) => {
      const device = parseDevice({ userAgent: ua, ip });
      expect((device.userAgent ?? '').length).toBeLessThanOrEqual(512);
      expect((device.ip ?? '').length).toBeLessThanOrEqual(64);
      expect(typeof device.type).toBe('string');
    }));
  }, TIMEOUT);
});
