import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rolePolicy } from '../../src/core/policy.js';

const defaults = { idleTimeout: 30 * 60_000, absoluteTimeout: 8 * 3_600_000 };

describe('rolePolicy', () => {
  it('keeps the defaults for roles without a policy', () => {
    const resolve = rolePolicy(defaults, { admin: { idleTimeout: '10m' } });
    expect(resolve([])).toEqual({ ...defaults, policy: null });
    expect(resolve(['user', 'guest'])).toEqual({ ...defaults, policy: null });
    expect(rolePolicy(defaults, undefined)(['admin'])).toEqual({ ...defaults, policy: null });
  });

  it('takes the most restrictive value of each timeout, and names the roles that set them', () => {
    const resolve = rolePolicy(defaults, {
      admin: { idleTimeout: '10m', absoluteTimeout: '1h' },
      support: { idleTimeout: '5m', absoluteTimeout: '2h' },
      auditor: { absoluteTimeout: '30m' },
    });
    expect(resolve(['admin'])).toEqual({ idleTimeout: 600_000, absoluteTimeout: 3_600_000, policy: 'admin' });
    expect(resolve(['admin', 'support'])).toEqual({ idleTimeout: 300_000, absoluteTimeout: 3_600_000, policy: 'support,admin' });
    expect(resolve(['support', 'admin'])).toEqual({ idleTimeout: 300_000, absoluteTimeout: 3_600_000, policy: 'support,admin' });
    expect(resolve(['auditor', 'user'])).toEqual({ idleTimeout: defaults.idleTimeout, absoluteTimeout: 1_800_000, policy: 'auditor' });
  });

  it('lets a role policy be longer than the defaults (it is that role\'s setting, not a floor)', () => {
    const resolve = rolePolicy(defaults, { kiosk: { idleTimeout: '12h' } });
    expect(resolve(['kiosk']).idleTimeout).toBe(12 * 3_600_000);
  });

  it('is the minimum over the matching roles, whatever their order', () => {
    const table = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.record({ idleTimeout: fc.integer({ min: 1, max: 1e7 }), absoluteTimeout: fc.integer({ min: 1, max: 1e8 }) }));
    fc.assert(fc.property(table, fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'x')), (roles, held) => {
      const resolved = rolePolicy(defaults, roles)(held);
      const matching = held.filter((r) => Object.hasOwn(roles, r)).map((r) => roles[r] as { idleTimeout: number; absoluteTimeout: number });
      const reversed = rolePolicy(defaults, roles)([...held].reverse());
      expect(resolved.idleTimeout).toBe(matching.length ? Math.min(...matching.map((p) => p.idleTimeout)) : defaults.idleTimeout);
      expect(resolved.absoluteTimeout).toBe(matching.length ? Math.min(...matching.map((p) => p.absoluteTimeout)) : defaults.absoluteTimeout);
      expect([reversed.idleTimeout, reversed.absoluteTimeout]).toEqual([resolved.idleTimeout, resolved.absoluteTimeout]);
    }), { seed: 7, numRuns: 200 });
  });

  it('rejects a bad role table with invalid_request naming the role and option', () => {
    expect(() => rolePolicy(defaults, 'admin' as never)).toThrow(/option roles:/);
    expect(() => rolePolicy(defaults, [] as never)).toThrow(/option roles:/);
    expect(() => rolePolicy(defaults, { admin: null } as never)).toThrow(/option roles\.admin:/);
    expect(() => rolePolicy(defaults, { admin: { idleTimeout: 'soon' } })).toThrow(/option roles\.admin\.idleTimeout:/);
    expect(() => rolePolicy(defaults, { admin: { absoluteTimeout: 0 } })).toThrow(/option roles\.admin\.absoluteTimeout: must be greater than zero/);
    expect(() => rolePolicy(defaults, { admin: { idleTimeout: -5 } })).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400 }));
  });
});
