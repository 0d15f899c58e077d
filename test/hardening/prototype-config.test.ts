// Issue 18, medium 1 (the grep for user text as object keys): role names and provider values in
// the configuration were keys of plain objects, so a role map entry `constructor=admin` crashed
// start-up with a TypeError and a role policy for `__proto__` was silently dropped.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

describe('configuration keyed by role names and provider values', () => {
  it('takes constructor and __proto__ as provider values of SESSIONKIT_OIDC_ROLE_MAP', () => {
    const config = loadConfig({ env: { SESSIONKIT_OIDC_ROLE_MAP: 'constructor=admin,__proto__=user,toString=staff' }, argv: [] });
    const map = config.oidcRoleMap as Record<string, string[]>;
    expect(Object.keys(map).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect([map.constructor, map.__proto__, map.toString]).toEqual([['admin'], ['user'], ['staff']]);
  });

  it('keeps a role policy for a role named __proto__ or constructor', () => {
    const config = loadConfig({ env: { SESSIONKIT_ROLE_POLICIES: '{"__proto__":{"idleTimeout":"5m"},"constructor":{"absoluteTimeout":"1h"}}' }, argv: [] });
    const policies = config.rolePolicies as Record<string, { idleTimeout?: number; absoluteTimeout?: number }>;
    expect(Object.keys(policies).sort()).toEqual(['__proto__', 'constructor']);
    expect(policies.__proto__).toEqual({ idleTimeout: 300_000 });
  });
});
