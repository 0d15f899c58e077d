// The pure freshness rule every adapter and the service share: age, methods, role rules.
import { describe, expect, it } from 'vitest';
import { checkFreshness, isFresh, reauthenticationRequired, reauthPolicy, requirementFor, parseRecentAuth } from '../../src/core/freshness.js';
import { errorResponse } from '../../src/http/core.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const session = (over: Partial<{ roles: string[]; authenticatedAt: Date | number; authMethods: string[] }> = {}) => ({
  roles: ['user'], authenticatedAt: new Date(T0), authMethods: ['password'], ...over,
});

describe('isFresh', () => {
  it('passes a session authenticated within maxAge and refuses one authenticated longer ago', () => {
    const req = { maxAge: 10 * MIN };
    expect(isFresh(session(), req, T0 + 10 * MIN)).toBe(true);
    expect(isFresh(session(), req, T0 + 10 * MIN + 1)).toBe(false);
    expect(checkFreshness(session(), req, T0 + 11 * MIN)).toEqual({ fresh: false, maxAge: 10 * MIN, methods: [], reason: 'age' });
  });

  it('requires every listed method at the last authentication', () => {
    expect(isFresh(session({ authMethods: ['password', 'totp'] }), { maxAge: MIN, methods: ['totp'] }, T0)).toBe(true);
    expect(checkFreshness(session(), { maxAge: MIN, methods: ['totp'] }, T0)).toMatchObject({ fresh: false, reason: 'methods', methods: ['totp'] });
    expect(isFresh(session({ authMethods: ['totp'] }), { maxAge: MIN, methods: ['password', 'totp'] }, T0)).toBe(false);
  });

  it('applies role rules only to sessions holding the role, tightening maxAge and adding methods', () => {
    const policy = reauthPolicy({ roles: { admin: { maxAge: '12h', methods: ['totp'] }, auditor: { maxAge: '2m' } } });
    const route = requirementFor(policy, parseRecentAuth({ maxAge: '1d' }, 'test'));
    const now = T0 + 11 * 3_600_000;
    expect(isFresh(session(), route, now)).toBe(true);
    expect(checkFreshness(session({ roles: ['admin'] }), route, now)).toMatchObject({ fresh: false, reason: 'methods', maxAge: 12 * 3_600_000, methods: ['totp'] });
    expect(isFresh(session({ roles: ['admin'], authMethods: ['password', 'totp'] }), route, now)).toBe(true);
    expect(isFresh(session({ roles: ['admin'], authMethods: ['password', 'totp'] }), route, T0 + 13 * 3_600_000)).toBe(false);
    // The most restrictive role wins; a route's own maxAge below the role's stays.
    expect(checkFreshness(session({ roles: ['admin', 'auditor'], authMethods: ['totp'] }), route, T0 + 3 * MIN)).toMatchObject({ fresh: false, reason: 'age', maxAge: 2 * MIN });
    expect(checkFreshness(session({ roles: ['admin'], authMethods: ['totp'] }), requirementFor(policy, { maxAge: 5 * MIN }), T0).maxAge).toBe(5 * MIN);
    // A role named like an Object.prototype member is no rule.
    expect(isFresh(session({ roles: ['constructor', 'toString'] }), route, now)).toBe(true);
  });

  it('fails closed on an unreadable time and treats a future authentication time as now', () => {
    expect(isFresh(session({ authenticatedAt: Number.NaN }), { maxAge: MIN }, T0)).toBe(false);
    expect(isFresh(session({ authenticatedAt: T0 + 5 * MIN }), { maxAge: MIN }, T0)).toBe(true);
  });

  it('defaults maxAge to 10 minutes and rejects bad options with invalid_request', () => {
    expect(reauthPolicy(undefined)).toEqual({ maxAge: 600_000 });
    expect(requirementFor(reauthPolicy({ maxAge: '30m' }))).toEqual({ maxAge: 30 * MIN });
    for (const bad of [{ maxAge: 0 }, { maxAge: 'soon' }, { methods: 'totp' }, { methods: ['has space'] }, { methods: [''] }]) {
      expect(() => parseRecentAuth(bad as never, 'requireRecentAuth'), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
    expect(() => reauthPolicy({ roles: { admin: {} } })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(() => reauthPolicy({ roles: [] as never })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});

describe('the reauthentication_required error', () => {
  it('is a 403 whose JSON body carries maxAge in seconds and the methods', () => {
    const err = reauthenticationRequired({ fresh: false, maxAge: 10 * MIN, methods: ['totp'], reason: 'age' });
    expect(err).toMatchObject({ code: 'reauthentication_required', status: 403 });
    const res = errorResponse(err);
    expect(res.status).toBe(403);
    expect(res.headers['WWW-Authenticate']).toBeUndefined();
    expect(res.body).toEqual({ error: 'reauthentication_required', message: expect.stringMatching(/10 minutes.*|totp/), maxAge: 600, methods: ['totp'] });
  });
});
