// The pure parts of the relying party: the returnTo allow-list, role mapping, the login-state
// cookie (on a moved clock) and option checks.
import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { createOidc } from '../../src/oidc/relying-party.js';
import { loginStateCookieName, openLoginState, sealLoginState } from '../../src/oidc/login-state.js';
import { resolveOidcOptions } from '../../src/oidc/options.js';
import { checkReturnTo, parseReturnToList } from '../../src/oidc/return-to.js';
import { parseRoleMapping, rolesFromClaims } from '../../src/oidc/roles.js';
import { oidcUserId } from '../../src/oidc/user-id.js';
import { openIdToken, sealIdToken } from '../../src/oidc/id-token.js';
import { logoutThroughProvider } from '../../src/oidc/rp-logout.js';
import { memoryStore } from '../../src/stores/memory.js';

const base = new URL('https://app.example.org/auth/callback');

describe('returnTo allow-list', () => {
  const allowed = parseReturnToList(['/account', 'https://app.example.org/admin/', 'https://other.example.org/welcome'], base);

  it('returns the first entry when nothing is asked for', () => {
    expect(checkReturnTo(undefined, allowed, base).href).toBe('https://app.example.org/account');
  });

  it('allows exact paths, paths below an entry ending in /, and keeps the query', () => {
    expect(checkReturnTo('/account?tab=devices', allowed, base).href).toBe('https://app.example.org/account?tab=devices');
    expect(checkReturnTo('/admin/users/7', allowed, base).href).toBe('https://app.example.org/admin/users/7');
    expect(checkReturnTo('https://other.example.org/welcome', allowed, base).href).toBe('https://other.example.org/welcome');
  });

  it.each([
    ['another origin', 'https://evil.example/account'],
    ['a protocol-relative URL', '//evil.example/account'],
    ['a backslash trick', '/\\evil.example'],
    ['a path that only starts like an entry', '/account-settings'],
    ['a dot-segment escape from a prefix', '/admin/../account-settings'],
    ['an encoded dot-segment escape', '/admin/%2e%2e/secret'],
    ['a relative path without /', 'account'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['credentials in the URL', 'https://user:pw@app.example.org/account'],
    ['another port', 'https://app.example.org:8443/account'],
    ['plain http of an https entry', 'http://app.example.org/account'],
    ['a control character', '/account\n'],
    ['a non-string', ['/account', '/account']],
  ])('refuses %s', (_label, target) => {
    expect(() => checkReturnTo(target, allowed, base)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});

describe('role mapping', () => {
  const claims = {
    groups: ['sso-admins', 'staff', 7, ''],
    realm_access: { roles: ['realm-admin'] },
    'https://example.org/roles': ['namespaced'],
    single: 'solo',
  };

  it('reads a claim, a dotted path, a claim whose name has dots, and a single string', () => {
    expect(rolesFromClaims(claims, parseRoleMapping('groups', undefined))).toEqual(['sso-admins', 'staff']);
    expect(rolesFromClaims(claims, parseRoleMapping('realm_access.roles', undefined))).toEqual(['realm-admin']);
    expect(rolesFromClaims(claims, parseRoleMapping('https://example.org/roles', undefined))).toEqual(['namespaced']);
    expect(rolesFromClaims(claims, parseRoleMapping('single', undefined))).toEqual(['solo']);
  });

  it('keeps only mapped values with a role map, and no roles without a claim', () => {
    expect(rolesFromClaims(claims, parseRoleMapping('groups', { 'sso-admins': 'admin', staff: ['user', 'reader'] }))).toEqual(['admin', 'user', 'reader']);
    expect(rolesFromClaims(claims, parseRoleMapping(undefined, undefined))).toEqual([]);
    expect(rolesFromClaims(claims, parseRoleMapping('missing.path', undefined))).toEqual([]);
  });

  it('caps the roles at 64 and refuses a bad map', () => {
    const many = { groups: Array.from({ length: 100 }, (_, i) => `g${i}`) };
    expect(rolesFromClaims(many, parseRoleMapping('groups', undefined))).toHaveLength(64);
    expect(() => parseRoleMapping('groups', { a: 'x'.repeat(65) })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});

describe('the login-state cookie', () => {
  const key = new Uint8Array(32).fill(7);
  const state = { state: 's', nonce: 'n', codeVerifier: 'v', returnTo: 'https://app.example.org/' };
  const headers = (value: string) => ({ cookie: `${loginStateCookieName(false)}=${value}` });

  it('opens within the login timeout and not after it (moved clock)', async () => {
    const t = Date.UTC(2030, 0, 1);
    const sealed = await sealLoginState(key, 'app', state, 600_000, t);
    expect(await openLoginState(headers(sealed), false, key, 'app', t + 599_000)).toEqual(state);
    expect(await openLoginState(headers(sealed), false, key, 'app', t + 601_000)).toBeNull();
  });

  it('does not open when altered, sealed for another client, or under another key', async () => {
    const t = Date.now();
    const sealed = await sealLoginState(key, 'app', state, 600_000, t);
    const altered = `${sealed.slice(0, -2)}${sealed.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await openLoginState(headers(altered), false, key, 'app', t)).toBeNull();
    expect(await openLoginState(headers(sealed), false, key, 'other-app', t)).toBeNull();
    expect(await openLoginState(headers(sealed), false, new Uint8Array(32).fill(8), 'app', t)).toBeNull();
    expect(await openLoginState({}, false, key, 'app', t)).toBeNull();
  });
});

describe('createOidc options', () => {
  const sessions = createSessionManager({ store: memoryStore() });
  const good = { sessions, issuer: 'https://sso.example.org/realms/main', clientId: 'app', redirectUri: 'https://app.example.org/cb' };

  it('fills in the defaults', () => {
    const o = resolveOidcOptions(good);
    expect(o).toMatchObject({ scope: 'openid', idTokenSigningAlg: 'RS256', loginTimeout: 600_000, clockTolerance: 30_000, clientSecret: null });
    expect(o.returnTo.map((u) => u.href)).toEqual(['https://app.example.org/']);
  });

  it.each([
    ['an http issuer off loopback', { issuer: 'http://sso.example.org', allowInsecureRequests: true }],
    ['an http loopback issuer without allowInsecureRequests', { issuer: 'http://127.0.0.1:9000' }],
    ['a scope without openid', { scope: 'profile email' }],
    ['a symmetric signing algorithm', { idTokenSigningAlg: 'HS256' }],
    ['alg none', { idTokenSigningAlg: 'none' }],
    ['a redirect URI with a fragment', { redirectUri: 'https://app.example.org/cb#x' }],
    ['an empty client id', { clientId: '' }],
    ['a returnTo entry that is neither URL nor path', { returnTo: ['app.example.org'] }],
  ])('refuses %s', (_label, change) => {
    expect(() => resolveOidcOptions({ ...good, ...change } as never)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});

describe('linking an SSO session', () => {
  it('revokes the new session when its index entry cannot be written (the provider could not end it)', async () => {
    const store = memoryStore();
    // The store refuses the index write, as a backend outage would.
    const failing = { ...store, putRecord: async (kind: string, id: string, value: unknown, opts?: { ifAbsent?: boolean }) => {
      if (kind.startsWith('oidc-sub:')) throw new Error('connection reset');
      return store.putRecord(kind, id, value, opts);
    } };
    const sessions = createSessionManager({ store: failing });
    const oidc = createOidc({ sessions, issuer: 'https://sso.example.org', clientId: 'app', redirectUri: 'https://app.example.org/cb' });
    const issued = await sessions.create({ userId: 'alice', data: { oidc: { iss: 'https://sso.example.org', sub: 'alice', sid: 's1' } } });
    await expect(oidc.linkSession(issued.session, { iss: 'https://sso.example.org', sub: 'alice', sid: 's1' })).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(sessions.validate(issued.token)).rejects.toMatchObject({ code: 'session_revoked' });
  });
});

describe('SSO user ids', () => {
  const sessions = createSessionManager({ store: memoryStore() });
  const opts = (extra: Record<string, unknown> = {}) => resolveOidcOptions({ sessions, issuer: 'https://sso.example.org/realms/main', clientId: 'app', redirectUri: 'https://app.example.org/cb', ...extra });
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: 'https://sso.example.org/realms/main', sub: 'alice', aud: 'app', ...extra });

  it('namespaces the sub by a hash of the issuer by default, so two realms on one host never share a user', () => {
    const id = opts().userId(claims());
    expect(id).toBe(oidcUserId('https://sso.example.org/realms/main', 'alice'));
    expect(id).toMatch(/^oidc:[0-9a-f]{16}:alice$/);
    expect(opts().userId(claims({ iss: 'https://sso.example.org/realms/other' }))).not.toBe(id);
  });

  it('maps a claim onto existing user ids with userIdClaim, and refuses a login whose token lacks it', () => {
    expect(opts({ userIdClaim: 'email' }).userId(claims({ email: 'alice@example.org' }))).toBe('alice@example.org');
    expect(opts({ userIdClaim: 'ext.employee' }).userId(claims({ ext: { employee: 'e-17' } }))).toBe('e-17');
    expect(() => opts({ userIdClaim: 'email' }).userId(claims())).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(() => opts({ userIdClaim: 'email' }).userId(claims({ email: 42 }))).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });

  it('refuses a sub too long for the namespaced form, naming userIdClaim', () => {
    expect(() => opts().userId(claims({ sub: 'x'.repeat(250) }))).toThrow(/userIdClaim/);
  });

  it('refuses userId together with userIdClaim', () => {
    expect(() => opts({ userIdClaim: 'email', userId: () => 'x' })).toThrow(/userIdClaim/);
  });
});

describe('RP-initiated logout', () => {
  it('still ends the local session when the provider cannot be reached, then reports the provider error', async () => {
    const sessions = createSessionManager({ store: memoryStore() });
    const oidc = createOidc({ sessions, issuer: 'http://127.0.0.1:9/', clientId: 'app', redirectUri: 'http://127.0.0.1:9/cb', allowInsecureRequests: true, postLogoutRedirectUri: 'http://127.0.0.1:9/bye' });
    const { session, token } = await sessions.create({ userId: 'u1' });
    const ended = logoutThroughProvider(oidc.startLogout, { session }, () => sessions.revoke(session.id, { reason: 'logout' }));
    await expect(ended).rejects.toMatchObject({ code: 'provider_unavailable', status: 502 });
    await expect(sessions.validate(token)).rejects.toMatchObject({ code: 'session_revoked' });
  });

  it('leaves the session alone when the returnTo is refused', async () => {
    const sessions = createSessionManager({ store: memoryStore() });
    const oidc = createOidc({ sessions, issuer: 'http://127.0.0.1:9/', clientId: 'app', redirectUri: 'http://127.0.0.1:9/cb', allowInsecureRequests: true });
    const { session, token } = await sessions.create({ userId: 'u1' });
    const ended = logoutThroughProvider(oidc.startLogout, { session, returnTo: 'https://evil.example/' }, () => sessions.revoke(session.id, { reason: 'logout' }));
    await expect(ended).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(sessions.validate(token)).resolves.toMatchObject({ id: session.id });
  });

  it('seals the kept ID Token for this client only', async () => {
    const key = new Uint8Array(32).fill(7);
    const sealed = await sealIdToken(key, 'app', 'eyJhbGciOi.eyJzdWIiOi.c2ln');
    expect(sealed).not.toContain('eyJzdWIiOi');
    expect(await openIdToken(key, 'app', sealed)).toBe('eyJhbGciOi.eyJzdWIiOi.c2ln');
    expect(await openIdToken(key, 'other-app', sealed)).toBeNull();
    expect(await openIdToken(new Uint8Array(32).fill(8), 'app', sealed)).toBeNull();
  });
});
