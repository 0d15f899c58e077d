// POST /v1/backchannel-logout against Logout Tokens signed with the provider's own keys: every
// malformed case is its own test and gets 400 invalid_request with no-store; valid ones revoke
// exactly the sessions they name.
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/config/load.js';
import { createSessionManager } from '../../src/core/manager.js';
import { createOidc } from '../../src/oidc/index.js';
import { buildServer } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { openApiChecker } from '../service/openapi-check.js';
import { CookieJar, loginThrough } from './helpers/browser.js';
import { ACCOUNTS, ADMIN_KEY, startSsoService, type SsoService } from './helpers/setup.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const FORM = 'application/x-www-form-urlencoded';

describe('POST /v1/backchannel-logout', () => {
  let sso: SsoService;
  let checker: ReturnType<typeof openApiChecker>;

  beforeAll(async () => {
    sso = await startSsoService();
    checker = openApiChecker(await (await fetch(`${sso.url}/openapi.json`)).json());
  });
  afterAll(async () => {
    await sso?.close();
  });

  const nowSeconds = () => Math.floor(Date.now() / 1000);
  /** A valid Logout Token's claims for the service's client, with `overrides` applied (undefined deletes). */
  function claims(overrides: Record<string, unknown> = {}): JWTPayload {
    const base: Record<string, unknown> = {
      iss: sso.op.issuer, aud: 'sessionkit-service', iat: nowSeconds(), exp: nowSeconds() + 120, jti: randomUUID(),
      sub: 'nobody', sid: `sid-${randomUUID()}`, events: { [EVENT]: {} },
    };
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    return base as JWTPayload;
  }

  async function post(body: string, contentType: string | null = FORM) {
    const res = await fetch(`${sso.url}/v1/backchannel-logout`, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });
    const text = await res.text();
    const json = checker.check('POST', '/v1/backchannel-logout', res.status, res.headers.get('content-type'), text) as Record<string, unknown>;
    expect(res.headers.get('cache-control')).toBe('no-store');
    return { status: res.status, body: json };
  }
  const form = (token: string) => new URLSearchParams({ logout_token: token }).toString();

  async function expectRefused(body: string, contentType: string | null = FORM, why?: RegExp) {
    const res = await post(body, contentType);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', error_description: expect.any(String), message: expect.any(String) });
    if (why) expect(res.body.error_description).toMatch(why);
  }

  async function logIn(user: 'alice' | 'bob') {
    const jar = new CookieJar();
    const landed = await loginThrough(jar, `${sso.url}/v1/oidc/login?returnTo=${encodeURIComponent(`${sso.url}/v1/sessions/current`)}`, user, ACCOUNTS[user]!.password);
    const { session } = JSON.parse(landed.text) as { session: { id: string; data: { oidc: { sid: string } } } };
    return { jar, id: session.id, sid: session.data.oidc.sid };
  }
  const alive = async (jar: CookieJar) => (await fetch(`${sso.url}/v1/sessions/current`, { headers: { cookie: jar.header(sso.url)! } })).status === 200;

  describe('malformed requests and tokens', () => {
    it('refuses a request without logout_token', () => expectRefused('other=1', FORM, /missing/));
    it('refuses logout_token given twice', async () => {
      const token = await sso.op.sign(claims());
      await expectRefused(`logout_token=${token}&logout_token=${token}`, FORM, /once/);
    });
    it('refuses an empty logout_token', () => expectRefused('logout_token=', FORM, /empty/));
    it('refuses a JSON body', async () => expectRefused(JSON.stringify({ logout_token: await sso.op.sign(claims()) }), 'application/json', /x-www-form-urlencoded/));
    it('refuses a body without a content type', async () => expectRefused(form(await sso.op.sign(claims())), null, /x-www-form-urlencoded/));
    it('refuses a logout_token that is not a JWT', () => expectRefused(form('not-a-jwt'), FORM, /not a signed JWT/));
    it('refuses an encrypted (JWE) logout_token', () => expectRefused(form('eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aaaa.bbbb.cccc'), FORM, /encrypted/));
    it('refuses an unsigned (alg none) logout_token', async () => {
      const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      await expectRefused(form(`${encode({ alg: 'none', typ: 'logout+jwt' })}.${encode(claims())}.`), FORM, /not a signed JWT|alg/);
    });
    it('refuses a token signed with a key the provider does not publish', async () => expectRefused(form(await sso.op.sign(claims(), {}, 'foreign')), FORM, /signature|key/));
    it('refuses a token with a tampered payload', async () => {
      const [h, , s] = (await sso.op.sign(claims({ sub: 'alice' }))).split('.');
      await expectRefused(form(`${h}.${Buffer.from(JSON.stringify(claims({ sub: 'bob' }))).toString('base64url')}.${s}`), FORM, /signature/);
    });
    it('refuses a token signed with an algorithm other than the client\'s (ES256 instead of RS256)', async () => expectRefused(form(await sso.op.sign(claims(), {}, 'ec1')), FORM, /"alg" must be RS256/));
    it('refuses an HS256 token (a MAC with a guessable or client-side key)', async () => {
      const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      await expectRefused(form(`${encode({ alg: 'HS256', typ: 'logout+jwt' })}.${encode(claims())}.c2ln`), FORM, /alg/);
    });
    it('refuses a token without typ', async () => expectRefused(form(await sso.op.sign(claims(), { typ: null })), FORM, /typ/));
    it('refuses a token typed JWT', async () => expectRefused(form(await sso.op.sign(claims(), { typ: 'JWT' })), FORM, /typ/));
    it('refuses an ID Token presented as a Logout Token (typ and events)', async () => expectRefused(form(await sso.op.sign(claims({ events: undefined, nonce: 'n' }), { typ: 'JWT' })), FORM, /typ/));
    it('refuses a token from another issuer', async () => expectRefused(form(await sso.op.sign(claims({ iss: 'https://evil.example' }))), FORM, /"iss"/));
    it('refuses a token without iss', async () => expectRefused(form(await sso.op.sign(claims({ iss: undefined }))), FORM, /"iss"/));
    it('refuses a token for another client (aud)', async () => expectRefused(form(await sso.op.sign(claims({ aud: 'another-client' }))), FORM, /"aud"/));
    it('refuses a token whose azp names another client', async () => expectRefused(form(await sso.op.sign(claims({ aud: ['sessionkit-service', 'another-client'], azp: 'another-client' }))), FORM, /azp/));
    it('refuses a token without iat', async () => expectRefused(form(await sso.op.sign(claims({ iat: undefined }))), FORM, /"iat"/));
    it('refuses a token issued in the future', async () => expectRefused(form(await sso.op.sign(claims({ iat: nowSeconds() + 3600, exp: nowSeconds() + 3720 }))), FORM, /iat/));
    it('refuses an expired token', async () => expectRefused(form(await sso.op.sign(claims({ iat: nowSeconds() - 600, exp: nowSeconds() - 300 }))), FORM, /expired/));
    it('refuses a token without exp', async () => expectRefused(form(await sso.op.sign(claims({ exp: undefined }))), FORM, /"exp"/));
    it('refuses a token without jti', async () => expectRefused(form(await sso.op.sign(claims({ jti: undefined }))), FORM, /"jti"/));
    it('refuses a token without events', async () => expectRefused(form(await sso.op.sign(claims({ events: undefined }))), FORM, /events/));
    it('refuses events without the back-channel logout member', async () => expectRefused(form(await sso.op.sign(claims({ events: { 'http://schemas.openid.net/event/other': {} } }))), FORM, /must contain/));
    it('refuses a back-channel logout event whose value is not an object', async () => expectRefused(form(await sso.op.sign(claims({ events: { [EVENT]: 'yes' } }))), FORM, /JSON object/));
    it('refuses events given as an array', async () => expectRefused(form(await sso.op.sign(claims({ events: [EVENT] }))), FORM, /events/));
    it('refuses a token with neither sub nor sid', async () => expectRefused(form(await sso.op.sign(claims({ sub: undefined, sid: undefined }))), FORM, /"sub", "sid"/));
    it('refuses a token with a nonce', async () => expectRefused(form(await sso.op.sign(claims({ nonce: 'abc' }))), FORM, /nonce/));
    it('refuses a replayed jti', async () => {
      const token = await sso.op.sign(claims());
      expect((await post(form(token))).status).toBe(200);
      await expectRefused(form(token), FORM, /replay/);
    });
  });

  describe('valid tokens', () => {
    it('accepts tokens typed JWT or untyped only with acceptUntypedLogoutTokens (Keycloak before 25), never another typ', async () => {
      const oidc = createOidc({
        sessions: createSessionManager({ store: memoryStore() }), issuer: sso.op.issuer, clientId: 'sessionkit-service',
        redirectUri: `${sso.url}/v1/oidc/callback`, acceptUntypedLogoutTokens: true, allowInsecureRequests: true,
      });
      expect(await oidc.backchannelLogout(await sso.op.sign(claims(), { typ: 'JWT' }))).toEqual({ revoked: 0 });
      expect(await oidc.backchannelLogout(await sso.op.sign(claims(), { typ: null }))).toEqual({ revoked: 0 });
      await expect(oidc.backchannelLogout(await sso.op.sign(claims(), { typ: 'at+jwt' }))).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('typ') });
      await expect(oidc.backchannelLogout(await sso.op.sign(claims({ nonce: 'n' }), { typ: 'JWT' }))).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('nonce') });
    });

    it('accepts a valid token that names no session here (200, nothing revoked)', async () => {
      expect(await post(form(await sso.op.sign(claims())))).toEqual({ status: 200, body: { revoked: 0 } });
    });

    it('accepts an aud array that holds the client id, and typ application/logout+jwt', async () => {
      const token = await sso.op.sign(claims({ aud: ['sessionkit-service', 'other'], azp: 'sessionkit-service' }), { typ: 'application/logout+jwt' });
      expect((await post(form(token))).status).toBe(200);
    });

    it('revokes only the session of the sid it names', async () => {
      const first = await logIn('alice');
      const second = await logIn('alice');
      const res = await post(form(await sso.op.sign(claims({ sub: 'alice', sid: first.sid }))));
      expect(res).toEqual({ status: 200, body: { revoked: 1 } });
      expect(await alive(first.jar)).toBe(false);
      expect(await alive(second.jar)).toBe(true);
    });

    it('revokes nothing when the sid belongs to another subject', async () => {
      const bob = await logIn('bob');
      expect(await post(form(await sso.op.sign(claims({ sub: 'alice', sid: bob.sid }))))).toEqual({ status: 200, body: { revoked: 0 } });
      expect(await alive(bob.jar)).toBe(true);
    });

    it('revokes every session of iss + sub when the token has no sid', async () => {
      const a = await logIn('bob');
      const b = await logIn('bob');
      const alice = await logIn('alice');
      const res = await post(form(await sso.op.sign(claims({ sub: 'bob', sid: undefined }))));
      expect(res.status).toBe(200);
      expect(res.body.revoked).toBeGreaterThanOrEqual(2);
      expect(await alive(a.jar)).toBe(false);
      expect(await alive(b.jar)).toBe(false);
      expect(await alive(alice.jar)).toBe(true);
      // A session made through the API for the same user id, without an SSO login, is not the provider's to end.
      const api = await fetch(`${sso.url}/v1/sessions`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'bob' }) });
      const { token } = await api.json() as { token: string };
      await post(form(await sso.op.sign(claims({ sub: 'bob', sid: undefined }))));
      expect((await fetch(`${sso.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    });
  });
});

describe('single sign-on configuration', () => {
  it('leaves the SSO routes out (404, undocumented) when no provider is configured', async () => {
    const app = await buildServer(loadConfig({ env: {}, argv: ['--store', 'memory:', '--log-level', 'silent', '--sweep-interval', '0'] }));
    try {
      for (const [method, url] of [['POST', '/v1/backchannel-logout'], ['GET', '/v1/oidc/login'], ['GET', '/v1/oidc/callback']] as const) {
        const res = await app.inject({ method, url });
        expect({ url, status: res.statusCode, error: res.json().error }).toEqual({ url, status: 404, error: 'not_found' });
      }
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths).filter((p) => p.includes('oidc') || p.includes('backchannel'))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('refuses an issuer without client id, redirect URI or returnTo list, naming the option', async () => {
    const base = ['--store', 'memory:', '--log-level', 'silent', '--sweep-interval', '0', '--oidc-issuer', 'https://sso.example.org/realms/main'];
    const cases: [string[], string][] = [
      [[], 'oidcClientId'],
      [['--oidc-client-id', 'app'], 'oidcRedirectUri'],
      [['--oidc-client-id', 'app', '--oidc-redirect-uri', 'https://sessions.example.org/v1/oidc/callback'], 'oidcReturnTo'],
    ];
    for (const [extra, option] of cases) {
      await expect(buildServer(loadConfig({ env: {}, argv: [...base, ...extra] }))).rejects.toSatisfy((err: unknown) => err instanceof ConfigError && err.option === option);
    }
  });

  it('refuses an http:// issuer that is not on loopback', async () => {
    const argv = ['--store', 'memory:', '--log-level', 'silent', '--sweep-interval', '0', '--oidc-issuer', 'http://sso.example.org',
      '--oidc-client-id', 'app', '--oidc-redirect-uri', 'https://sessions.example.org/v1/oidc/callback', '--oidc-return-to', 'https://app.example.org/'];
    await expect(buildServer(loadConfig({ env: {}, argv }))).rejects.toThrow(/https/);
  });

  it('reads the options from SESSIONKIT_OIDC_* variables', () => {
    const config = loadConfig({
      env: {
        SESSIONKIT_STORE: 'memory:', SESSIONKIT_OIDC_ISSUER: 'https://sso.example.org/realms/main', SESSIONKIT_OIDC_CLIENT_ID: 'app',
        SESSIONKIT_OIDC_CLIENT_SECRET: 's3cret', SESSIONKIT_OIDC_REDIRECT_URI: 'https://sessions.example.org/v1/oidc/callback',
        SESSIONKIT_OIDC_ROLES_CLAIM: 'realm_access.roles', SESSIONKIT_OIDC_ROLE_MAP: 'sso-admins=admin,staff=user,staff=reader',
        SESSIONKIT_OIDC_RETURN_TO: 'https://app.example.org/, /v1/sessions/current', SESSIONKIT_OIDC_SCOPE: 'openid profile',
        SESSIONKIT_OIDC_ACCEPT_UNTYPED_LOGOUT_TOKENS: 'true',
      },
    });
    expect(config).toMatchObject({
      oidcIssuer: 'https://sso.example.org/realms/main', oidcClientId: 'app', oidcClientSecret: 's3cret',
      oidcRedirectUri: 'https://sessions.example.org/v1/oidc/callback', oidcRolesClaim: 'realm_access.roles',
      oidcRoleMap: { 'sso-admins': ['admin'], staff: ['user', 'reader'] }, oidcReturnTo: ['https://app.example.org/', '/v1/sessions/current'],
      oidcScope: 'openid profile', oidcAcceptUntypedLogoutTokens: true,
    });
    expect(config.warnings).toEqual([]);
    expect(() => loadConfig({ env: { SESSIONKIT_OIDC_RETURN_TO: '//evil.example' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { SESSIONKIT_OIDC_ROLE_MAP: 'no-equals-sign' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { SESSIONKIT_OIDC_ISSUER: 'ftp://sso.example.org' } })).toThrow(ConfigError);
  });
});
