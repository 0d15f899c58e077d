import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { createSessionManager, type SessionManagerOptions } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';

const store = memoryStore();

/** The error createSessionManager throws for these options. */
function rejection(options: unknown): unknown {
  try {
    createSessionManager(options as SessionManagerOptions);
  } catch (err) {
    return err;
  }
  return null;
}

describe('createSessionManager options', () => {
  it('accepts the defaults and reports the parsed values', () => {
    const m = createSessionManager({ store });
    expect(m.options).toMatchObject({ idleTimeout: 1_800_000, absoluteTimeout: 28_800_000, touchInterval: 60_000, renewGrace: 10_000, tokenPrefix: 'sk' });
    expect(createSessionManager({ store, maxSessionsPerUser: 3 }).options.maxSessionsPerUser).toEqual({ max: 3, policy: 'evict-oldest' });
    expect(createSessionManager({ store, maxSessionsPerUser: { max: 2, policy: 'reject' } }).options.maxSessionsPerUser).toEqual({ max: 2, policy: 'reject' });
  });

  const bad: [string, unknown, string][] = [
    ['no options', undefined, 'options are required'],
    ['null options', null, 'options are required'],
    ['no store', {}, 'option store'],
    ['a store without methods', { store: {} }, 'option store'],
    ['a zero idle timeout', { store, idleTimeout: 0 }, 'option idleTimeout'],
    ['an unparsable idle timeout', { store, idleTimeout: 'forever' }, 'option idleTimeout'],
    ['a zero absolute timeout', { store, absoluteTimeout: '0s' }, 'option absoluteTimeout'],
    ['a negative absolute timeout', { store, absoluteTimeout: -1 }, 'option absoluteTimeout'],
    ['a bad touch interval', { store, touchInterval: '1 minute' }, 'option touchInterval'],
    ['a bad renew grace', { store, renewGrace: {} }, 'option renewGrace'],
    ['a renew grace over 5 minutes', { store, renewGrace: '6m' }, 'option renewGrace'],
    ['roles that are not an object', { store, roles: ['admin'] }, 'option roles'],
    ['a bad role timeout', { store, roles: { admin: { idleTimeout: 'x' } } }, 'option roles.admin.idleTimeout'],
    ['a zero session limit', { store, maxSessionsPerUser: 0 }, 'option maxSessionsPerUser'],
    ['a fractional session limit', { store, maxSessionsPerUser: 2.5 }, 'option maxSessionsPerUser'],
    ['a null session limit', { store, maxSessionsPerUser: null }, 'option maxSessionsPerUser'],
    ['an unknown limit policy', { store, maxSessionsPerUser: { max: 2, policy: 'newest' } }, 'option maxSessionsPerUser.policy'],
    ['an upper-case token prefix', { store, tokenPrefix: 'SK' }, 'option tokenPrefix'],
    ['a token prefix with an underscore', { store, tokenPrefix: 's_k' }, 'option tokenPrefix'],
    ['a token prefix that is not a string', { store, tokenPrefix: 7 }, 'option tokenPrefix'],
    ['a too long token prefix', { store, tokenPrefix: 'a'.repeat(17) }, 'option tokenPrefix'],
    ['a tiny data limit', { store, maxDataBytes: 1 }, 'option maxDataBytes'],
    ['a fractional data limit', { store, maxDataBytes: 10.5 }, 'option maxDataBytes'],
    ['an audit sink without write', { store, audit: {} }, 'option audit'],
    ['a null audit sink in a list', { store, audit: [null] }, 'option audit'],
    ['a short secret string', { store, secret: 'too short' }, 'option secret'],
    ['a short secret buffer', { store, secret: new Uint8Array(16) }, 'option secret'],
    // Fails today: manager.ts passes any non-string to Buffer.from, which throws a TypeError.
    ['a secret that is a number', { store, secret: 42 }, 'option secret'],
    ['a secret that is null', { store, secret: null }, 'option secret'],
    ['a clock that is not a function', { store, now: 1234 }, 'option now'],
    ['a random source that is not a function', { store, random: 'dice' }, 'option random'],
  ];
  for (const [what, options, named] of bad) {
    it(`rejects ${what} with invalid_request naming the option`, () => {
      const err = rejection(options);
      expect(err).toBeInstanceOf(SessionError);
      expect(err).toMatchObject({ code: 'invalid_request', status: 400 });
      expect((err as Error).message).toContain(named);
    });
  }
});
